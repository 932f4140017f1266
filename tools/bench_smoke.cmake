# ctest bench.smoke: the benchmark works, on a small store. Timing is not
# checked (performance is reported, never asserted): graft_bench must exit 0,
# which it does only when every contender finished and migrated every user,
# and its JSON must give each contender a rate above zero. sqlite-utils is
# the only contender allowed to be skipped (it is optional). The
# expensive-migrateOne contenders run too, on 1,000 users, on the machine as
# it is and beside two CPU-bound processes (each run takes a second or so).
#
#   cmake -DBENCH=<graft_bench> -DWORK=<scratch dir> -P bench_smoke.cmake
foreach(var BENCH WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "bench_smoke.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(
  COMMAND "${BENCH}" --docs 2000 --noop 3 --expensive-docs 1000 --load-processes 2 --work "${WORK}"
          --json "${WORK}/out.json"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "graft_bench exited with ${rc}")
endif()
file(READ "${WORK}/out.json" json)
foreach(key graft_up graft_up_parallel sql_update sql_update_batched hand_loop sqlite_utils)
  string(JSON skipped ERROR_VARIABLE missing GET "${json}" contenders ${key} skipped)
  if(NOT missing AND key STREQUAL "sqlite_utils")
    continue()
  endif()
  string(JSON rate GET "${json}" contenders ${key} docs_per_s)
  if(NOT rate GREATER 0)
    message(FATAL_ERROR "contender ${key}: docs_per_s is ${rate}")
  endif()
endforeach()
foreach(machine quiet loaded)
  foreach(threads one_thread parallelize)
    foreach(run 0 1)
      string(JSON rate GET "${json}" expensive ${machine} ${threads} ${run} docs_per_s)
      if(NOT rate GREATER 0)
        message(FATAL_ERROR "expensive ${machine} ${threads} run ${run}: docs_per_s is ${rate}")
      endif()
    endforeach()
  endforeach()
endforeach()
foreach(path "memory;rss_ratio" "noop;up;wall_s" "expensive;quiet;parallel_over_one_thread"
        "expensive;loaded;parallel_over_one_thread")
  string(JSON value GET "${json}" ${path})
  if(NOT value GREATER 0)
    message(FATAL_ERROR "${path}: ${value}")
  endif()
endforeach()
message(STATUS "graft_bench smoke run ok: ${WORK}/out.json")
