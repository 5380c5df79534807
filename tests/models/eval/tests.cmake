# Evaluation metrics against hand-checked and scikit-learn reference values.
mlt_test(eval_test SOURCES models/eval/metrics_test.cc models/eval/ranking_test.cc
  LIBS mltrack_eval)
