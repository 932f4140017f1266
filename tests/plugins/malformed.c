/* Test plugin: an entry point whose graft_plugin is not what the SDK makes,
 * the way a hand-written or corrupted plugin would be. GRAFT_TEST_MALFORMED:
 *   1  graft_plugin_entry returns NULL
 *   2  graft_plugin says it is 8 bytes
 *   3  no up step */
#include <graft/graft.h>

static const graft_plugin plugin = {
    GRAFT_ABI_VERSION, GRAFT_TEST_MALFORMED == 2 ? 8 : sizeof(graft_plugin), "test_malformed", "",
    0, 0, 0};

GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) {
  return GRAFT_TEST_MALFORMED == 1 ? 0 : &plugin;
}
