#include "common/auth.h"

#include <sys/stat.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kFile[] =
    "# name role token\n"
    "alice user  alice-token-0123456789\n"
    "\n"
    "root  admin root-token-0123456789   # the operator\n"
    "watch reader watch-token-0123456789\n"
    "w1    worker worker-token-0123456789\n";

TEST(AuthTableTest, ParsesPrincipalsAndFindsThemByToken) {
  absl::StatusOr<AuthTable> table = AuthTable::Parse(kFile);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 4u);
  const Principal* alice = table->Find("alice-token-0123456789");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kUser);
  EXPECT_EQ(table->Find("root-token-0123456789")->role, Role::kAdmin);
  EXPECT_EQ(table->Find("alice-token-012345678"), nullptr);  // A prefix.
  EXPECT_EQ(table->Find("alice-token-0123456789x"), nullptr);
  EXPECT_EQ(table->Find(""), nullptr);
}

TEST(AuthTableTest, RefusesBadLinesNamingThemButNeverTheToken) {
  for (const auto& [text, error] :
       std::vector<std::pair<std::string, std::string>>{
           {"alice user\n", "line 1: want NAME ROLE TOKEN, got 2 fields"},
           {"a user t1-0123456789abcdef extra\n", "got 4 fields"},
           {"\nalice boss secret-0123456789abcdef\n",
            "line 2: unknown role \"boss\""},
           {"alice user short\n", "the token must be 16..4096 bytes"},
           {"a user t1-0123456789abcdef\na admin t2-0123456789abcdef\n",
            "line 2: duplicate name \"a\""},
           {"a user t1-0123456789abcdef\nb admin t1-0123456789abcdef\n",
            "line 2: duplicate token"},
           {"al/ice user t1-0123456789abcdef\n", "line 1: bad name"},
           {"# nobody\n\n", "names no principal"},
       }) {
    absl::StatusOr<AuthTable> table = AuthTable::Parse(text);
    ASSERT_FALSE(table.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(table.status()));
    EXPECT_THAT(table.status().message(), HasSubstr(error));
    EXPECT_THAT(table.status().message(), Not(HasSubstr("0123456789abcdef")));
  }
}

TEST(AuthTableTest, RolesAllowWhatTheyShould) {
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kWorker));
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kUser));
  EXPECT_TRUE(RoleAllows(Role::kUser, Role::kReader));
  EXPECT_FALSE(RoleAllows(Role::kReader, Role::kUser));
  EXPECT_FALSE(RoleAllows(Role::kUser, Role::kAdmin));
  EXPECT_FALSE(RoleAllows(Role::kWorker, Role::kUser));
  EXPECT_FALSE(RoleAllows(Role::kWorker, Role::kReader));
  EXPECT_FALSE(RoleAllows(Role::kUser, Role::kWorker));
}

TEST(AuthTableTest, LoadRefusesAFileOthersCanRead) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/auth";
  testing::WriteFile(path, kFile);
  chmod(path.c_str(), 0644);
  absl::StatusOr<AuthTable> table = AuthTable::Load(path);
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(),
              HasSubstr("readable or writable by group or others (mode 0644)"));
  chmod(path.c_str(), 0600);
  EXPECT_TRUE(AuthTable::Load(path).ok());
  EXPECT_FALSE(AuthTable::Load(dir.path() + "/missing").ok());
}

TEST(AuthTableTest, TokenFilesMustBePrivateAndHoldOneWord) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/token";
  testing::WriteFile(path, "  alice-token-0123456789\n");
  chmod(path.c_str(), 0600);
  EXPECT_EQ(*ReadTokenFile(path), "alice-token-0123456789");
  chmod(path.c_str(), 0640);
  EXPECT_THAT(ReadTokenFile(path).status().message(),
              HasSubstr("token file " + path + " is readable"));
  testing::WriteFile(path, "two words\n");
  chmod(path.c_str(), 0600);
  EXPECT_THAT(ReadTokenFile(path).status().message(),
              HasSubstr("holds more than one word"));
}

}  // namespace
}  // namespace quarry
