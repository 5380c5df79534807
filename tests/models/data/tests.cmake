# The data layer (tests/models/data) and `mlt datasets` end to end.
mlt_test(data_test
  SOURCES models/data/csv_test.cc models/data/encoding_test.cc models/data/split_test.cc
          models/data/generators_test.cc
  LIBS mltrack_data)
mlt_test(datasets_cli_test SOURCES cli/datasets_cli_test.cc LIBS mltrack_data)
add_dependencies(datasets_cli_test mlt)
