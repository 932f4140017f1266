// Tests for host/plan/sumfile.cpp: the graft.sum chain, its text, its parse
// errors and its mismatch messages, verbatim.
#include "plan/sumfile.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

// The chain values below were computed with Python's hashlib, independently
// of sumfile.cpp, from the format in sumfile.h.
const std::string kEmpty = "5836be30ad4dbc078194dc6a2fcd79e3e73f68050357831c3931d25257c91a8c";
const std::string kA = "fa282a74f80b99fe5a33d17de331e83e76196c6111e26e4d622406b60edd3547";
const std::string kAB = "956032fed8a0b38c89b9f4bc870e05664ca57d8bbcafbc3532d122ac4a438207";
const std::string kAC = "b7727492bcdfeda2939b7680095dbe833c83be810ad7d56a360ac959080b28dd";
const std::string kB = "c90e17aa631ad3d6839dd10b4a3a3e54871fe05658cad7117e4dbe2de7899008";
const std::string kBA = "7c4c6fb7cb0f295101fe02922dc98f1c02af3e0f899a299f6a5209a24e2f24e1";
const std::string kAPending = "0cf208db9577702e43764dc8b41e3760cf3cf633c396b474ed76dcea4b90eef7";

const SumInput kInputA{"20260101_000001_a", "v1:sha256:" + std::string(64, 'a'), "/p/a.so"};
const SumInput kInputB{"20260101_000002_b", "v1:sha256:" + std::string(64, 'b'), "/p/b.so"};
const SumInput kInputC{"20260101_000003_c", "v1:sha256:" + std::string(64, 'c'), "/p/c.so"};

SumFile sumOf(const std::vector<SumInput>& inputs) {
  auto sum = computeSum(inputs);
  BOOST_TEST_REQUIRE(sum.ok(), sum.status().message());
  return std::move(sum).value();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0, end;
  while ((end = text.find('\n', start)) != std::string::npos) {
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

BOOST_AUTO_TEST_SUITE(sumfile)

struct ComputeCase {
  const char* name;
  std::vector<SumInput> inputs;
  std::vector<std::string> hashes;  // each entry's chain value; the last is the total
  std::string total;
};

BOOST_AUTO_TEST_CASE(compute_chains_order_and_logic_digests) {
  SumInput a_changed = kInputA;
  a_changed.logic_digest = "v1:sha256:" + std::string(64, 'b');
  const std::vector<ComputeCase> cases = {
      {"no migrations", {}, {}, kEmpty},
      {"one", {kInputA}, {kA}, kA},
      {"two", {kInputA, kInputB}, {kA, kAB}, kAB},
      {"another second migration", {kInputA, kInputC}, {kA, kAC}, kAC},
      {"the same two, the other way round", {kInputB, kInputA}, {kB, kBA}, kBA},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      SumFile sum = sumOf(c.inputs);
      BOOST_TEST(sum.total == c.total);
      BOOST_TEST_REQUIRE(sum.entries.size() == c.inputs.size());
      for (size_t i = 0; i < c.inputs.size(); ++i) {
        BOOST_TEST(sum.entries[i].id == c.inputs[i].id);
        BOOST_TEST(sum.entries[i].hash == c.hashes[i]);
      }
    }
  }
  // A changed digest changes its own entry and every one after it.
  SumFile changed = sumOf({a_changed, kInputB});
  BOOST_TEST(changed.entries[0].hash != kA);
  BOOST_TEST(changed.entries[1].hash != kAB);
}

BOOST_AUTO_TEST_CASE(a_plugin_without_a_logic_digest_can_not_be_summed) {
  SumInput bare = kInputB;
  bare.logic_digest = "";
  auto sum = computeSum({kInputA, bare});
  BOOST_TEST_REQUIRE(!sum.ok());
  BOOST_TEST(sum.status().code() == Code::kPlugin);
  BOOST_TEST(sum.status().message() ==
             "plugin /p/b.so: logic digest: none embedded, so graft.sum can not pin "
             "\"20260101_000002_b\" (rebuild it with graft_add_migration from this SDK)");
}

BOOST_AUTO_TEST_CASE(the_text_is_a_version_line_a_total_and_one_line_per_migration) {
  const SumFile sum = sumOf({kInputA, kInputB});
  const std::string text = formatSum(sum);
  BOOST_TEST(text == "graft-sum 1\ntotal " + kAB + "\n20260101_000001_a " + kA +
                         "\n20260101_000002_b " + kAB + "\n");
  auto parsed = parseSum(text, "graft.sum");
  BOOST_TEST_REQUIRE(parsed.ok(), parsed.status().message());
  BOOST_TEST(parsed->total == sum.total);
  BOOST_TEST_REQUIRE(parsed->entries.size() == 2u);
  BOOST_TEST(parsed->entries[1].id == "20260101_000002_b");
  BOOST_TEST(parsed->entries[1].hash == kAB);
  BOOST_TEST(compareSum(*parsed, sum, "graft.sum").ok());
  // A checkout with CRLF line ends reads the same.
  std::string crlf;
  for (const auto& line : lines(text)) crlf += line + "\r\n";
  auto from_crlf = parseSum(crlf, "graft.sum");
  BOOST_TEST_REQUIRE(from_crlf.ok(), from_crlf.status().message());
  BOOST_TEST(compareSum(*from_crlf, sum, "graft.sum").ok());
}

// What the file is for: two branches that each add a migration to the same
// base change the same lines (the total, and the line after the base's
// last entry) in different ways, so any line-based merge stops on them.
BOOST_AUTO_TEST_CASE(two_branches_that_each_add_a_migration_touch_the_same_lines) {
  const auto base = lines(formatSum(sumOf({kInputA})));
  const auto ours = lines(formatSum(sumOf({kInputA, kInputB})));
  const auto theirs = lines(formatSum(sumOf({kInputA, kInputC})));
  BOOST_TEST_REQUIRE(base.size() == 3u);
  BOOST_TEST_REQUIRE(ours.size() == 4u);
  BOOST_TEST_REQUIRE(theirs.size() == 4u);
  BOOST_TEST(ours[0] == base[0]);
  BOOST_TEST(theirs[0] == base[0]);
  BOOST_TEST(ours[1] != base[1]);
  BOOST_TEST(theirs[1] != base[1]);
  BOOST_TEST(ours[1] != theirs[1]);
  BOOST_TEST(ours[2] == base[2]);
  BOOST_TEST(ours[3] != theirs[3]);
}

struct BadSum {
  const char* name;
  std::string text;
  Code code;
  std::string message;
};

BOOST_AUTO_TEST_CASE(bad_files_say_where_and_what_is_wrong) {
  const std::string head = "graft-sum 1\ntotal " + kAB + "\n";
  const std::vector<BadSum> cases = {
      {"empty", "", Code::kBadInput,
       "s/graft.sum:1: expected \"graft-sum 1\", got end of file (rewrite it with graft sum)"},
      {"not a sum", "hello\n", Code::kBadInput,
       "s/graft.sum:1: expected \"graft-sum 1\", got \"hello\" (rewrite it with graft sum)"},
      {"a newer format", "graft-sum 2\ntotal x\n", Code::kBadInput,
       "s/graft.sum:1: graft.sum format 2 is not supported; this graft reads format 1 "
       "(upgrade graft)"},
      {"no total", "graft-sum 1\n", Code::kBadInput,
       "s/graft.sum:2: expected \"total <sha256 hex>\", got end of file (rewrite it with graft "
       "sum)"},
      {"short total", "graft-sum 1\ntotal abc\n", Code::kBadInput,
       "s/graft.sum:2: expected \"total <sha256 hex>\", got \"total abc\" (rewrite it with "
       "graft sum)"},
      {"upper-case hex", "graft-sum 1\ntotal " + std::string(64, 'A') + "\n", Code::kBadInput,
       "s/graft.sum:2: expected \"total <sha256 hex>\", got \"total " + std::string(64, 'A') +
           "\" (rewrite it with graft sum)"},
      {"entry without a hash", head + "20260101_000001_a\n", Code::kBadInput,
       "s/graft.sum:3: expected \"<migration id> <sha256 hex>\", got \"20260101_000001_a\" "
       "(rewrite it with graft sum)"},
      {"two spaces", head + "20260101_000001_a  " + kA + "\n", Code::kBadInput,
       "s/graft.sum:3: expected \"<migration id> <sha256 hex>\", got \"20260101_000001_a  " +
           kA.substr(0, 61) + "...\" (rewrite it with graft sum)"},
      {"blank line", head + "20260101_000001_a " + kA + "\n\n", Code::kBadInput,
       "s/graft.sum:4: expected \"<migration id> <sha256 hex>\", got \"\" (rewrite it with "
       "graft sum)"},
      {"invalid id", head + "a/b " + kA + "\n", Code::kBadInput,
       "s/graft.sum:3: \"a/b\" is not a valid migration id (letters, digits, '_', '-', '.'; at "
       "most 128)"},
      {"duplicate id",
       head + "20260101_000001_a " + kA + "\n20260101_000002_b pending\n20260101_000001_a " + kAB +
           "\n",
       Code::kBadInput,
       "s/graft.sum:5: duplicate entry \"20260101_000001_a\" (also on line 3; rewrite it with "
       "graft sum)"},
      {"a merge conflict",
       "graft-sum 1\n<<<<<<< ours\ntotal " + kAB + "\n=======\ntotal " + kAC + "\n>>>>>>> theirs\n",
       Code::kDrift,
       "s/graft.sum:2: unresolved merge conflict (resolve the manifest, then run graft sum after "
       "merging, and review)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto sum = parseSum(c.text, "s/graft.sum");
      BOOST_TEST_REQUIRE(!sum.ok());
      BOOST_TEST(sum.status().code() == c.code);
      BOOST_TEST(sum.status().message() == c.message);
    }
  }
}

struct Mismatch {
  const char* name;
  SumFile recorded;
  std::vector<SumInput> now;
  std::string message;
};

BOOST_AUTO_TEST_CASE(mismatches_name_the_entry_and_the_fix) {
  const SumFile a = sumOf({kInputA});
  const SumFile ab = sumOf({kInputA, kInputB});
  const SumFile ac = sumOf({kInputA, kInputC});
  SumInput b_edited = kInputB;
  b_edited.logic_digest = "v1:sha256:" + std::string(64, 'e');
  SumFile bad_total = ab;
  bad_total.total = kAC;
  const std::string changed =
      " (the manifest changed after graft sum ran: run graft sum after merging, and review)";
  const std::vector<Mismatch> cases = {
      {"the merge added the other branch's migration",
       ab,
       {kInputA, kInputB, kInputC},
       "s/graft.sum: no entry for \"20260101_000003_c\", migrations[2] of the manifest" + changed},
      {"the merge kept the other side's sum",
       ac,
       {kInputA, kInputB, kInputC},
       "s/graft.sum:4: entry \"20260101_000003_c\" does not match the manifest, which has "
       "\"20260101_000002_b\" there" +
           changed},
      {"a migration left the manifest",
       ab,
       {kInputA},
       "s/graft.sum:4: entry \"20260101_000002_b\" is not in the manifest" + changed},
      {"a migration's source changed",
       ab,
       {kInputA, b_edited},
       "s/graft.sum:4: entry \"20260101_000002_b\" does not match the plugin's logic digest (its "
       "source changed after graft sum ran: run graft sum after merging, and review)"},
      {"created and not summed yet",
       appendPending(a, kInputB.id),
       {kInputA, kInputB},
       "s/graft.sum:4: entry \"20260101_000002_b\" is pending: graft create added it and graft "
       "sum has not run since (build it, then run graft sum, and review)"},
      {"a total edited by hand",
       bad_total,
       {kInputA, kInputB},
       "s/graft.sum:2: total does not match the entries (the file was edited or merged by hand: "
       "run graft sum after merging, and review)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Status status = compareSum(c.recorded, sumOf(c.now), "s/graft.sum");
      BOOST_TEST_REQUIRE(!status.ok());
      BOOST_TEST(status.code() == Code::kDrift);
      BOOST_TEST(status.message() == c.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_pending_entry_continues_the_chain) {
  const SumFile pending = appendPending(sumOf({kInputA}), kInputB.id);
  BOOST_TEST(pending.total == kAPending);
  BOOST_TEST(formatSum(pending) == "graft-sum 1\ntotal " + kAPending + "\n20260101_000001_a " + kA +
                                       "\n20260101_000002_b pending\n");
  auto parsed = parseSum(formatSum(pending), "graft.sum");
  BOOST_TEST_REQUIRE(parsed.ok(), parsed.status().message());
  BOOST_TEST(parsed->entries[1].hash == "pending");
}

BOOST_AUTO_TEST_CASE(the_file_sits_beside_the_manifest) {
  BOOST_TEST(sumPathFor("/a/b/manifest.json") == "/a/b/graft.sum");
  BOOST_TEST(sumPathFor("manifest.json") == "graft.sum");
}

BOOST_AUTO_TEST_CASE(write_then_read_and_a_missing_file_is_no_sum) {
  ScratchDir dir;
  auto missing = readSum(dir / "graft.sum");
  BOOST_TEST_REQUIRE(missing.ok(), missing.status().message());
  BOOST_TEST(!missing->has_value());
  const SumFile sum = sumOf({kInputA, kInputB});
  BOOST_TEST_REQUIRE(writeSum(sum, dir / "graft.sum").ok());
  BOOST_TEST(test::readBytes(dir / "graft.sum") == formatSum(sum));
  auto read = readSum(dir / "graft.sum");
  BOOST_TEST_REQUIRE(read.ok(), read.status().message());
  BOOST_TEST_REQUIRE(read->has_value());
  BOOST_TEST(compareSum(**read, sum, dir / "graft.sum").ok());
  Status unwritable = writeSum(sum, dir / "no/such/dir/graft.sum");
  BOOST_TEST(unwritable.code() == Code::kBadInput);
  BOOST_TEST(unwritable.message() ==
             dir / "no/such/dir/graft.sum" + ": can not write: No such file or directory");
}

// Against real plugins, whose digests graft_add_migration embedded.
BOOST_AUTO_TEST_CASE(check_sum_file_against_a_real_catalog) {
  ScratchDir dir;
  auto plugins = test::makePluginDir(dir, {test::testPlugin("counter"), test::testPlugin("probe")},
                                     {"test_counter", "test_probe"});
  const std::string manifest = plugins + "/manifest.json";
  auto catalog = loadCatalog(plugins, manifest);
  BOOST_TEST_REQUIRE(catalog.ok(), catalog.status().message());
  BOOST_TEST(checkSumFile(*catalog).ok());  // no graft.sum: nothing to check

  auto sum = computeSum(*catalog);
  BOOST_TEST_REQUIRE(sum.ok(), sum.status().message());
  BOOST_TEST_REQUIRE(writeSum(*sum, plugins + "/graft.sum").ok());
  BOOST_TEST(checkSumFile(*catalog).ok());

  test::writeFile(manifest,
                  R"({"graft_manifest": 1, "migrations": ["test_probe", "test_counter"]})");
  auto reordered = loadCatalog(plugins, manifest);
  BOOST_TEST_REQUIRE(reordered.ok(), reordered.status().message());
  Status status = checkSumFile(*reordered);
  BOOST_TEST(status.code() == Code::kDrift);
  BOOST_TEST(status.message() ==
             "sum check: " + plugins +
                 "/graft.sum:3: entry \"test_counter\" does not match the "
                 "manifest, which has \"test_probe\" there (the manifest changed after graft sum "
                 "ran: run graft sum after merging, and review)");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
