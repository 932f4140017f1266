/* Test plugin: walks "items" and changes nothing. Built under several ids
 * (SKIP_ID), for a run through many migrations that write nothing. */
#include <graft/graft.h>

/* Defined by the source graft_add_migration generates. */
extern const char graft_logic_digest[];

static int32_t skip_every_document(const graft_context* ctx, const char* doc, size_t doc_len,
                                   const char** patch, size_t* patch_len, char* err,
                                   size_t err_cap) {
  (void)ctx, (void)doc, (void)doc_len, (void)patch, (void)patch_len, (void)err, (void)err_cap;
  return GRAFT_SKIP;
}

static const graft_step up = {sizeof(graft_step), "items", 0, skip_every_document};

/* Designated initializers: graft_add_migration reads .description from this
 * line to embed it in the plugin's metadata. */
static const graft_plugin plugin = {.abi_version = GRAFT_ABI_VERSION,
                                    .struct_size = sizeof(graft_plugin),
                                    .id = SKIP_ID,
                                    .description = "changes nothing",
                                    .up = &up,
                                    .logic_digest = graft_logic_digest};

GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) { return &plugin; }
