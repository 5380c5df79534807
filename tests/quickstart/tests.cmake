# The README's main job, small (scripts/lifecycle.sh --small), run twice in a fresh folder.
add_test(NAME QuickstartLifecycle
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/quickstart/lifecycle_test.sh $<TARGET_FILE:mlt>)
set_tests_properties(QuickstartLifecycle PROPERTIES TIMEOUT 600)
