/* Test plugin: needs a symbol nothing defines, so loading with RTLD_NOW fails. */
#include <graft/graft.h>

extern int graft_test_symbol_nobody_defines(void);

GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) {
  static const graft_plugin plugin = {GRAFT_ABI_VERSION, sizeof(graft_plugin), "test_unresolved", "", 0, 0, 0};
  return graft_test_symbol_nobody_defines() ? &plugin : &plugin;
}
