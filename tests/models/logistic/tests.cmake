# The logistic regression trainer (tests/models/logistic).
mlt_test(logistic_test
  SOURCES models/logistic/optimizer_test.cc models/logistic/logistic_trainer_test.cc
  LIBS mltrack_logistic Eigen3::Eigen)
# `mlt train logistic` end to end, alone and under mpirun -np 2.
mlt_test(train_cli_test SOURCES cli/train_cli_test.cc
  LIBS mltrack_logistic mltrack_registry mltrack_tracking)
add_dependencies(train_cli_test mlt)

# GCC 12 reports a std::string inside TrainInput's designated initialisers as maybe used
# uninitialised (it is not: every member has a default); silenced for this file only.
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/models/logistic/logistic_trainer_test.cc
  PROPERTIES COMPILE_OPTIONS "-Wno-maybe-uninitialized")
