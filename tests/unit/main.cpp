// The one unit-test binary: each host module adds a suite in its own file.
#define BOOST_TEST_MODULE graft_unit
#include <boost/test/unit_test.hpp>
