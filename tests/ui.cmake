# Browser tests of the web app (ui/tests/*.test.mjs): node's test runner drives Debian's Chromium
# headless through playwright-core against the built `mlt ui`. One ctest test per file.
find_program(MLT_NODE node REQUIRED)
file(GLOB MLT_UI_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/ui/tests/*.test.mjs)
foreach(ui_test IN LISTS MLT_UI_TESTS)
  get_filename_component(ui_test_name ${ui_test} NAME_WE)
  add_test(NAME ui_${ui_test_name}
           COMMAND ${MLT_NODE} --test --test-reporter=spec ${ui_test}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/ui)
  set_tests_properties(ui_${ui_test_name} PROPERTIES
                       ENVIRONMENT "MLT_BIN=$<TARGET_FILE:mlt>" TIMEOUT 300)
endforeach()
