/* Test plugin: claims an ABI major this host does not speak. */
#include <graft/graft.h>

static const graft_plugin plugin = {(uint32_t)(2u << 16), sizeof(graft_plugin), "test_bad_abi", "", 0, 0, 0};

GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) { return &plugin; }
