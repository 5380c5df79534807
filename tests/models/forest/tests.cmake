# The random forest trainer (tests/models/forest) and `mlt train forest` end to end.
mlt_test(forest_test
  SOURCES models/forest/forest_trainer_test.cc models/forest/forest_model_test.cc
  LIBS mltrack_forest)
mlt_test(train_forest_cli_test SOURCES cli/train_forest_cli_test.cc
  LIBS mltrack_forest mltrack_registry mltrack_tracking)
add_dependencies(train_forest_cli_test mlt)

# GCC 12 reports a std::string inside ForestInput's designated initialisers as maybe used
# uninitialised (it is not: every member has a default); silenced for this file only.
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/models/forest/forest_trainer_test.cc
  PROPERTIES COMPILE_OPTIONS "-Wno-maybe-uninitialized")
