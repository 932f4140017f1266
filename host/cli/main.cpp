// graft -- the command line: a thin layer over the host library.
//
// Every error becomes lines "graft: <what failed, where, how to fix>" on
// stderr and one of the exit codes of status.h (documented in README.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "graft_host.h"
#include "jsonl.h"
#include "progress.h"
#include "sqlite_store.h"

namespace {

std::atomic<bool> g_stop{false};

void onStopSignal(int) { g_stop.store(true); }

// SIGINT/SIGTERM: finish the batch in flight, commit, record, exit. The
// handler is reset on first use, so a second Ctrl-C stops at once (which is
// still safe: an uncommitted batch is simply rolled back by SQLite).
void installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int fail(const graft::Status& status) {
  std::istringstream lines(status.message());
  std::string line;
  while (std::getline(lines, line)) std::fprintf(stderr, "graft: %s\n", line.c_str());
  return graft::exitCode(status.code());
}

std::string shortSum(const std::string& sum) { return sum.empty() ? "-" : sum.substr(0, 12); }

int runUp(const graft::HostOptions& host_options, uint32_t batch_size, bool quiet) {
  auto host = graft::Host::open(host_options);
  if (!host.ok()) return fail(host.status());
  graft::ProgressPrinter printer(
      stderr, quiet                 ? graft::ProgressPrinter::Mode::kQuiet
              : isatty(fileno(stderr)) ? graft::ProgressPrinter::Mode::kTerminal
                                     : graft::ProgressPrinter::Mode::kPlain);
  graft::RunOptions options;
  options.batch_size = batch_size;
  options.on_progress = [&](const graft::Progress& p) { printer.update(p); };
  options.stop_requested = &g_stop;
  installStopHandlers();
  graft::RunReport report;
  graft::Status status = (*host)->up(options, &report);
  for (const auto& m : report.migrations) {
    if (m.outcome == "skipped") continue;
    std::printf("%s: %s, %lld documents visited, %lld patched", m.id.c_str(), m.outcome.c_str(),
                static_cast<long long>(m.processed), static_cast<long long>(m.changed));
    const graft::WriteCounts& w = m.db_writes;
    if (w.total() > 0) {
      std::printf("; through ctx.db: %lld inserted, %lld patched, %lld replaced, %lld deleted",
                  static_cast<long long>(w.inserts), static_cast<long long>(w.patches),
                  static_cast<long long>(w.replaces), static_cast<long long>(w.deletes));
    }
    std::printf("\n");
  }
  if (!status.ok()) return fail(status);
  if (report.status == "noop") std::printf("nothing to do: every migration is completed\n");
  if (report.status == "canceled") {
    return fail(graft::Status(graft::Code::kCanceled,
                              "stopped by signal after a committed batch; run graft up to resume"));
  }
  return 0;
}

int runStatus(graft::HostOptions host_options, bool json) {
  host_options.read_only = true;
  auto host = graft::Host::open(host_options);
  if (!host.ok()) return fail(host.status());
  auto rows = (*host)->status();
  if (!rows.ok()) return fail(rows.status());
  if (json) {
    boost::json::array out;
    for (const auto& r : *rows) {
      out.push_back(boost::json::object{{"id", r.id},
                                        {"description", r.description},
                                        {"state", r.state},
                                        {"processed", r.processed},
                                        {"changed", r.changed},
                                        {"cursor", r.cursor},
                                        {"checksum", r.checksum},
                                        {"file_checksum", r.file_checksum},
                                        {"updated_at", r.updated_at},
                                        {"error", r.error}});
    }
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return 0;
  }
  int width = 2;
  for (const auto& r : *rows) width = std::max(width, static_cast<int>(r.id.size()));
  std::printf("%-*s  %-10s %10s %10s  %s\n", width, "ID", "STATE", "PROCESSED", "CHANGED", "CHECKSUM");
  for (const auto& r : *rows) {
    std::printf("%-*s  %-10s %10lld %10lld  %s\n", width, r.id.c_str(), r.state.c_str(),
                static_cast<long long>(r.processed), static_cast<long long>(r.changed),
                shortSum(r.checksum.empty() ? r.file_checksum : r.checksum).c_str());
    if (!r.error.empty()) std::printf("    error: %s\n", r.error.c_str());
  }
  return 0;
}

int runImport(const std::string& db, const std::string& table, const std::string& file) {
  graft::SqliteOptions options;
  options.create = true;
  auto store = graft::SqliteStore::open(db, options);
  if (!store.ok()) return fail(store.status());
  std::ifstream in_file;
  if (file != "-") {
    in_file.open(file, std::ios::binary);
    if (!in_file)
      return fail(graft::Status(graft::Code::kBadInput, "import: " + file + ": can not open"));
  }
  int64_t imported = 0;
  graft::Status status = graft::importJsonLines(**store, table, file == "-" ? std::cin : in_file,
                                                file == "-" ? "<stdin>" : file, &imported);
  if (!status.ok()) return fail(status);
  std::printf("imported %lld documents into %s\n", static_cast<long long>(imported), table.c_str());
  return 0;
}

int runExport(const std::string& db, const std::string& table) {
  graft::SqliteOptions options;
  options.read_only = true;
  auto store = graft::SqliteStore::open(db, options);
  if (!store.ok()) return fail(store.status());
  std::ios::sync_with_stdio(false);
  graft::Status status = graft::exportJsonLines(**store, table, std::cout);
  std::cout.flush();
  return status.ok() ? 0 : fail(status);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"graft: online data migrations shipped as plugins", "graft"};
  app.require_subcommand(0, 1);
  graft::HostOptions host;
  app.add_option("--db", host.db_path, "SQLite store file")->envname("GRAFT_DB")->capture_default_str();
  app.add_option("--plugins", host.plugin_dir, "directory of migration plugins")
      ->envname("GRAFT_PLUGINS")
      ->capture_default_str();
  app.add_option("--manifest", host.manifest_path, "ordered list of migration ids (default: PLUGINS/manifest.json)")
      ->envname("GRAFT_MANIFEST");

  uint32_t batch_size = 0;
  bool quiet = false;
  auto* up = app.add_subcommand("up", "run pending migrations, in manifest order, batch by batch");
  up->add_option("--batch-size", batch_size, "documents per batch (default: the migration's, else 256)")
      ->check(CLI::Range(1u, 1000000u));
  up->add_flag("-q,--quiet", quiet, "no progress output");

  bool json = false;
  auto* status = app.add_subcommand("status", "one line per migration: id, state, counts, checksum");
  status->add_flag("--json", json, "print a JSON array instead");

  std::string table, file;
  auto* import = app.add_subcommand("import", "load JSON lines (one object a line) into a table");
  import->add_option("table", table, "table name")->required();
  import->add_option("file", file, "JSON lines file, - for standard input")->required();

  auto* export_ = app.add_subcommand("export", "print a table as JSON lines, in _id order");
  export_->add_option("table", table, "table name")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "graft: usage: %s (see graft --help)\n", e.what());
    return graft::exitCode(graft::Code::kUsage);
  }

  if (app.get_subcommands().empty()) {
    std::fprintf(stderr, "graft: usage: a command is required: up, status, import or export (see graft --help)\n");
    return graft::exitCode(graft::Code::kUsage);
  }
  if (up->parsed()) return runUp(host, batch_size, quiet);
  if (status->parsed()) return runStatus(host, json);
  if (import->parsed()) return runImport(host.db_path, table, file);
  if (export_->parsed()) return runExport(host.db_path, table);
  return graft::exitCode(graft::Code::kUsage);
}
