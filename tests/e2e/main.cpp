#define BOOST_TEST_MODULE graft_e2e
#include <boost/test/unit_test.hpp>
