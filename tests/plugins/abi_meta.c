/* Test plugin: a migration built for GRAFT_TEST_ABI_MAJOR.GRAFT_TEST_ABI_MINOR,
 * which its embedded metadata (.graft_meta, written here by hand as
 * graft_add_migration would) and its entry point both say. Its up step is a
 * working one that skips every document: only the ABI keeps it from
 * running. Built once as a newer minor and once as another major. */
#include <graft/graft.h>

#define GRAFT_TEST_STR2(x) #x
#define GRAFT_TEST_STR(x) GRAFT_TEST_STR2(x)

__attribute__((section(".graft_meta"), used)) static const char meta[] =
    "{\"graft_meta\":1,\"id\":\"" GRAFT_TEST_ID "\",\"abi\":\"" GRAFT_TEST_STR(
        GRAFT_TEST_ABI_MAJOR) "." GRAFT_TEST_STR(GRAFT_TEST_ABI_MINOR) "\",\"logic_digest\":"
                                                                      "\"v1:sha256:00\","
                                                                      "\"description\":\"\","
                                                                      "\"has_down\":false}";

static int32_t skip(const graft_context* ctx, const char* doc, size_t doc_len, const char** patch,
                    size_t* patch_len, char* err, size_t err_cap) {
  (void)ctx, (void)doc, (void)doc_len, (void)patch, (void)patch_len, (void)err, (void)err_cap;
  return GRAFT_SKIP;
}

static const graft_step up = {sizeof(graft_step), "items", 0, skip, 0, 0, 0, 0, 0, 0};
static const graft_plugin plugin = {
    (uint32_t)((GRAFT_TEST_ABI_MAJOR << 16) | GRAFT_TEST_ABI_MINOR), sizeof(graft_plugin),
    GRAFT_TEST_ID, "", &up, 0, "v1:sha256:00"};

GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) { return &plugin; }
