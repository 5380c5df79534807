# MLproject runs (tests/projects): the spec, project sources and git, the runner and sweeps, and
# `mlt run` / `mlt rerun` end to end.
mlt_test(mlproject_test SOURCES projects/mlproject_test.cc LIBS mltrack_projects_spec)
mlt_test(project_source_test SOURCES projects/project_source_test.cc projects/sha256_test.cc
  LIBS mltrack_projects_source)
mlt_test(project_runner_test
  SOURCES projects/runner_test.cc projects/sweep_test.cc projects/run_cli_test.cc
          projects/runner_fixture.cc projects/process_groups.cc
  LIBS mltrack_projects mltrack_tracking)
add_dependencies(project_runner_test mlt)
