// make_demo_data -- writes the demo's documents, in their OLD shapes, as JSON
// lines: teams.jsonl, users.jsonl, posts.jsonl. Deterministic for a given
// count, so a demo run and a test see the same data.
//
//   make_demo_data OUT_DIR [USERS]      (default 5000 users)
//
// Imported in that order into an empty store, team i and user i get _id i,
// which is what teamId and authorId refer to. About 2% of posts name an
// author that does not exist (the orphans a migration deletes); every
// user has the legacy fields that the example migrations reshape.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

// A small fixed-seed generator: the same data on every machine.
struct Lcg {
  uint64_t state;
  uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: make_demo_data OUT_DIR [USERS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int64_t users = argc == 3 ? std::atoll(argv[2]) : 5000;
  if (users < 1) {
    std::fprintf(stderr, "make_demo_data: USERS must be a positive number\n");
    return 2;
  }
  const int64_t teams = users / 50 + 1;
  const int64_t posts = users * 3;
  Lcg rng{42};

  std::ofstream team_out(dir + "/teams.jsonl"), user_out(dir + "/users.jsonl"),
      post_out(dir + "/posts.jsonl");
  if (!team_out || !user_out || !post_out) {
    std::fprintf(stderr, "make_demo_data: can not write into %s\n", dir.c_str());
    return 1;
  }
  for (int64_t t = 1; t <= teams; ++t) {
    team_out << "{\"name\":\"Team " << t << "\",\"ownerId\":" << (1 + rng.below(users)) << "}\n";
  }
  for (int64_t u = 1; u <= users; ++u) {
    user_out << "{\"name\":\"User " << u << "\",\"email\":\"user" << u << "@example.com\""
             << ",\"isPro\":" << (rng.below(4) == 0 ? "true" : "false")
             << ",\"teamId\":" << (1 + rng.below(teams));
    if (u % 10 == 0) user_out << ",\"role\":\"admin\"";  // new code already wrote these
    if (u % 3 == 0) user_out << ",\"legacyNickname\":\"nick" << u << "\"";
    user_out << ",\"profile\":{\"bio\":\"Bio of user " << u << "\",\"avatarUrl\":\"https://example.com/a/"
             << u << ".png\"}}\n";
  }
  for (int64_t p = 1; p <= posts; ++p) {
    const bool orphan = rng.below(50) == 0;
    const int64_t author = orphan ? users + 1 + rng.below(users) : 1 + rng.below(users);
    post_out << "{\"authorId\":" << author << ",\"title\":\"Post " << p << "\",\"text\":\"Text of post "
             << p << "\",\"likes\":" << rng.below(1000) << "}\n";
  }
  if (!team_out.flush() || !user_out.flush() || !post_out.flush()) {
    std::fprintf(stderr, "make_demo_data: write error in %s\n", dir.c_str());
    return 1;
  }
  std::printf("wrote %lld teams, %lld users, %lld posts to %s\n", static_cast<long long>(teams),
              static_cast<long long>(users), static_cast<long long>(posts), dir.c_str());
  return 0;
}
