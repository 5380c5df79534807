# The scoring server (tests/serving): request decoding, per-flavor scoring, the HTTP routes and
# `mlt models serve|predict` end to end.
mlt_test(codec_test SOURCES serving/codec_test.cc LIBS mltrack_serving_codec)
mlt_test(scorer_test SOURCES serving/scorer_test.cc
  LIBS mltrack_serving_scorer mltrack_logistic mltrack_forest mltrack_als)
add_library(mltrack_served_model STATIC serving/served_model.cc)
target_link_libraries(mltrack_served_model PUBLIC mltrack_serving mltrack_test_support
  mltrack_logistic mltrack_forest mltrack_als)
mlt_test(scoring_server_test
  SOURCES serving/scoring_server_test.cc serving/scoring_server_golden_test.cc
          serving/models_serve_cli_test.cc
  LIBS mltrack_served_model mltrack_serving mltrack_logistic mltrack_forest mltrack_als
       mltrack_registry mltrack_tracking mltrack_client)
add_dependencies(scoring_server_test mlt)
