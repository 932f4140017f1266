/* Test plugin: a shared library that exports no graft_plugin_entry. */
GRAFT_TEST_EXPORT int not_the_entry_point(void) { return 42; }
