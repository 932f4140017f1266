/* A migration that changes nothing: it walks the "items" table and skips
 * every document. graft_bench builds it NOOP_COUNT times, each with its own
 * id (BENCH_NOOP_ID), to time graft status and graft up over many plugins. */
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
static const graft_plugin plugin = {
    .abi_version = GRAFT_ABI_VERSION,
    .struct_size = sizeof(graft_plugin),
    .id = BENCH_NOOP_ID,
    .description = "bench: changes nothing",
    .up = &up,
    .logic_digest = graft_logic_digest};

GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) { return &plugin; }
