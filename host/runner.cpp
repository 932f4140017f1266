#include "runner.h"

#include <unistd.h>

#include <climits>

#include "clock.h"
#include "db_api.h"
#include "patch.h"

namespace graft {
namespace {

std::string hostName() {
  char name[HOST_NAME_MAX + 1] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

// Writes `state` in a transaction of its own.
Status saveStateNow(Store& store, const MigrationState& state) {
  GRAFT_RETURN_IF_ERROR(store.begin());
  Status s = store.saveState(state);
  if (!s.ok()) {
    (void)store.rollback();
    return s;
  }
  return store.commit();
}

Status saveRunNow(Store& store, const RunRecord& run) {
  GRAFT_RETURN_IF_ERROR(store.begin());
  Status s = store.saveRun(run);
  if (!s.ok()) {
    (void)store.rollback();
    return s;
  }
  return store.commit();
}

}  // namespace

std::string newRunId() {
  std::string t = utcNow();  // 2026-11-22T20:52:17.123Z
  std::string compact;
  for (char c : t)
    if (c != '-' && c != ':' && c != '.') compact += c;
  return compact + "-" + std::to_string(getpid());
}

Status Runner::up(const RunOptions& options, RunReport* report) {
  *report = RunReport{newRunId(), "running", {}};
  RunRecord run;
  run.run_id = report->run_id;
  run.status = "running";
  run.command = options.command;
  run.started_at = utcNow();
  run.host = hostName();
  run.pid = getpid();

  std::vector<const Plugin*> todo;
  for (const auto& plugin : catalog_.plugins) {
    if (!options.only.empty() && plugin->id() != options.only) continue;
    auto state = store_.loadState(plugin->id());
    if (!state.ok()) return state.status();
    if (*state && (*state)->status == "completed") {
      report->migrations.push_back({plugin->id(), "skipped", 0, 0, {}});
      continue;
    }
    todo.push_back(plugin.get());
  }
  if (!options.only.empty() && !catalog_.find(options.only)) {
    return Status(Code::kUsage, "no migration \"" + options.only + "\" in " +
                                    catalog_.manifest.path);
  }
  if (todo.empty()) {
    report->status = run.status = "noop";
    run.ended_at = utcNow();
    return saveRunNow(store_, run);
  }
  GRAFT_RETURN_IF_ERROR(saveRunNow(store_, run));

  Status result;
  bool canceled = false;
  for (const Plugin* plugin : todo) {
    MigrationReport m{plugin->id(), "", 0, 0, {}};
    result = runMigration(*plugin, options, report->run_id, &m, &canceled);
    report->migrations.push_back(m);
    run.processed += m.processed;
    run.changed += m.changed;
    if (!result.ok() || canceled) break;
    ++run.migrations;
  }
  run.status = !result.ok() ? "failed" : canceled ? "canceled" : "completed";
  run.error = result.message();
  run.ended_at = utcNow();
  report->status = run.status;
  Status saved = saveRunNow(store_, run);
  if (!result.ok()) return result;
  return saved;
}

Status Runner::runMigration(const Plugin& plugin, const RunOptions& options,
                            const std::string& run_id, MigrationReport* report, bool* canceled) {
  const graft_step& step = plugin.up();
  const std::string id = plugin.id();
  const std::string table = step.table;
  const uint32_t batch_size =
      options.batch_size ? options.batch_size : step.batch_size ? step.batch_size : kDefaultBatchSize;

  auto loaded = store_.loadState(id);
  if (!loaded.ok()) return loaded.status();
  MigrationState state;
  if (*loaded) state = **loaded;
  state.id = id;
  state.checksum = plugin.sha256();
  state.logic_digest = plugin.logicDigest();
  state.status = "running";
  state.direction = "up";
  state.run_id = run_id;
  state.error.clear();
  state.error_doc_id.reset();
  if (state.started_at.empty()) state.started_at = utcNow();
  state.updated_at = utcNow();
  GRAFT_RETURN_IF_ERROR(saveStateNow(store_, state));

  auto exists = store_.hasTable(table);
  if (!exists.ok()) return exists.status();
  int64_t left = 0;
  if (*exists) {
    auto n = store_.count(table, state.cursor);
    if (!n.ok()) return n.status();
    left = *n;
  }
  Progress progress{id, state.processed, state.processed + left, state.changed, false};

  DocApi api(store_);
  const graft_context ctx{sizeof(graft_context), id.c_str(), run_id.c_str(), GRAFT_UP, 0,
                          api.handle(), DocApi::table()};

  std::vector<Document> docs;
  WriteCounts committed_writes;  // api.counts() as of the last commit
  char err[1024];
  bool more = *exists;
  while (more) {
    if (options.stop_requested && options.stop_requested->load()) {
      *canceled = true;
      break;
    }
    GRAFT_RETURN_IF_ERROR(store_.begin());
    docs.clear();
    Status failure = store_.scan(table, state.cursor, batch_size, &docs);
    int64_t failed_at = 0;
    int64_t changed = 0;
    for (size_t i = 0; failure.ok() && i < docs.size(); ++i) {
      const Document& doc = docs[i];
      const std::string text = documentJson(doc);
      const char* patch = nullptr;
      size_t patch_len = 0;
      err[0] = '\0';
      const int64_t writes_before = api.counts().total();
      int32_t rc = step.migrate_one(&ctx, text.data(), text.size(), &patch, &patch_len, err,
                                    sizeof err);
      const std::string at = table + "/" + std::to_string(doc.id);
      if (rc == GRAFT_SKIP) continue;
      if (rc == GRAFT_ERROR) {
        failure = Status(Code::kMigrationFailed, "migrateOne failed on " + at + ": " +
                                                     (err[0] ? err : "no reason given"));
      } else if (rc != GRAFT_PATCH) {
        failure = Status(Code::kMigrationFailed,
                         "migrateOne returned " + std::to_string(rc) + " on " + at +
                             " (expected GRAFT_SKIP, GRAFT_PATCH or GRAFT_ERROR)");
      } else {
        // Usually the patch applies to the body just read; only when
        // migrateOne wrote through ctx.db may this document have changed.
        std::optional<Document> reread;
        Status read_status;
        if (api.counts().total() != writes_before) {
          auto current = store_.get(table, doc.id);
          if (current.ok()) reread = std::move(current).value();
          else read_status = current.status();
        }
        const std::string_view patch_text(patch, patch_len);
        Result<Patched> patched =
            !read_status.ok() ? Result<Patched>(read_status)
            : api.counts().total() == writes_before ? applyPatch(doc.body, patch_text)
            : !reread ? Result<Patched>(Status(Code::kMigrationFailed,
                                               "the document was deleted by migrateOne itself"))
                      : applyPatch(reread->body, patch_text);
        if (!patched.ok()) {
          failure = Status(patched.status().code() == Code::kStore ? Code::kStore
                                                                   : Code::kMigrationFailed,
                           "patch returned for " + at + ": " + patched.status().message());
        } else if (patched->changed) {
          auto updated = store_.update(table, doc.id, patched->body);
          if (!updated.ok()) failure = updated.status();
          ++changed;
        }
      }
      if (!failure.ok()) failed_at = doc.id;
    }
    if (failure.ok() && !docs.empty()) {
      state.cursor = docs.back().id;
      state.processed += static_cast<int64_t>(docs.size());
      state.changed += changed;
      state.updated_at = utcNow();
      failure = store_.saveState(state);
      if (failure.ok()) failure = store_.commit();
      if (failure.ok()) {
        report->processed += static_cast<int64_t>(docs.size());
        report->changed += changed;
        committed_writes = api.counts();
      } else {
        // The batch did not commit: the state in memory must not claim it.
        auto reread = store_.loadState(id);
        if (reread.ok() && *reread) state = **reread;
      }
    } else if (failure.ok()) {
      failure = store_.commit();
    }
    if (!failure.ok()) {
      (void)store_.rollback();
      report->outcome = "failed";
      report->db_writes = committed_writes;
      state.status = "failed";
      state.error = failure.message();
      if (failed_at) state.error_doc_id = failed_at;
      state.updated_at = utcNow();
      std::string message = "migration " + id + " failed: " + failure.message() +
                            "; the batch was rolled back, the cursor stays at _id " +
                            std::to_string(state.cursor) +
                            " (fix the cause, then run graft up again to resume)";
      Status saved = saveStateNow(store_, state);
      if (!saved.ok()) message += "; also could not record the failure: " + saved.message();
      return Status(failure.code() == Code::kStore ? Code::kStore : Code::kMigrationFailed,
                    message);
    }
    more = docs.size() == batch_size;
    progress.processed = state.processed;
    progress.changed = state.changed;
    progress.run_processed = report->processed;
    if (progress.total < progress.processed) progress.total = progress.processed;
    if (options.on_progress) options.on_progress(progress);
  }

  report->db_writes = committed_writes;
  state.updated_at = utcNow();
  if (*canceled) {
    state.status = "canceled";
    report->outcome = "canceled";
  } else {
    state.status = "completed";
    state.completed_at = state.updated_at;
    report->outcome = "completed";
  }
  GRAFT_RETURN_IF_ERROR(saveStateNow(store_, state));
  progress.done = !*canceled;
  if (options.on_progress && progress.done) options.on_progress(progress);
  return Status::Ok();
}

}  // namespace graft
