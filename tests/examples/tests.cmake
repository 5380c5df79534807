# The example projects (examples/recommender, examples/airbnb-price, examples/income) run with
# `mlt run` end to end, from the source tree.
mlt_test(examples_test SOURCES examples/examples_test.cc LIBS mltrack_tracking)
target_compile_definitions(examples_test PRIVATE MLT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(examples_test mlt)
