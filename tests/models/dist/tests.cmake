# The distributed runtime: single and threaded communicators in-process (dist_test), and the MPI
# communicator through `mpirun -np N mpi_dist_check` (mpi_dist_test).
mlt_test(dist_test SOURCES models/dist/communicator_test.cc LIBS mltrack_dist)

# Runs every collective under ProcessCommunicator() and prints "ok rank R of N (kind)".
add_executable(mpi_dist_check models/dist/mpi_dist_check.cc)
target_link_libraries(mpi_dist_check PRIVATE mltrack_dist)

mlt_test(mpi_dist_test SOURCES models/dist/mpi_dist_test.cc LIBS mltrack_dist)
target_compile_definitions(mpi_dist_test PRIVATE
  MPI_DIST_CHECK_BINARY="$<TARGET_FILE:mpi_dist_check>")
add_dependencies(mpi_dist_test mpi_dist_check)
