# The ALS recommender (tests/models/als).
mlt_test(als_test
  SOURCES models/als/ratings_test.cc models/als/als_model_test.cc models/als/als_trainer_test.cc
    models/als/normal_equations_test.cc
  LIBS mltrack_als)
# `mlt train als` end to end, alone and under mpirun -np 2.
mlt_test(train_als_cli_test SOURCES cli/train_als_cli_test.cc
  LIBS mltrack_als mltrack_registry mltrack_tracking)
add_dependencies(train_als_cli_test mlt)
