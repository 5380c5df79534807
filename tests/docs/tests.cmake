# The docs' runnable command blocks (tests/docs/run_doc_blocks.sh): one ctest test per page,
# docs_<page> for docs/<page>.md and docs_repo_README for the repository's README.md, each
# running the page's ```sh runnable blocks with the built mlt. docs_runner_self_test checks that
# the runner fails on a failing block, an unterminated fence and the other faults it names.
file(GLOB MLT_DOC_PAGES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
foreach(page IN LISTS MLT_DOC_PAGES)
  get_filename_component(page_name ${page} NAME_WE)
  add_test(NAME docs_${page_name}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_doc_blocks.sh ${page})
  set_tests_properties(docs_${page_name} PROPERTIES
                       ENVIRONMENT "MLT_BIN=$<TARGET_FILE:mlt>;MLT_REPO=${PROJECT_SOURCE_DIR}"
                       TIMEOUT 300)
endforeach()
add_test(NAME docs_repo_README
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_doc_blocks.sh ${PROJECT_SOURCE_DIR}/README.md)
add_test(NAME docs_runner_self_test COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/self_test.sh)
set_tests_properties(docs_repo_README docs_runner_self_test PROPERTIES
                     ENVIRONMENT "MLT_BIN=$<TARGET_FILE:mlt>;MLT_REPO=${PROJECT_SOURCE_DIR}"
                     TIMEOUT 300)
