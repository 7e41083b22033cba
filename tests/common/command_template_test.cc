#include "common/command_template.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

google::protobuf::RepeatedPtrField<std::string> Command(
    const std::vector<std::string>& words) {
  return {words.begin(), words.end()};
}

void ExpectRefused(const std::vector<std::string>& words,
                   const std::string& text) {
  const absl::Status status = ValidateCommand(Command(words));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr(text));
}

TEST(CommandTemplateTest, AcceptsKnownPlaceholdersAndDoubledBraces) {
  EXPECT_TRUE(ValidateCommand(Command({"sh", "-c", "x {{a}} {input}",
                                       "{output}{name}{index}{job}{attempt}"}))
                  .ok());
}

TEST(CommandTemplateTest, RefusesWhatIsNotACommandNamingTheArgument) {
  ExpectRefused({}, "command is required");
  ExpectRefused({""}, "command[0] (the program) is empty");
  ExpectRefused({"cat", "{inptu}"}, "command[1]: unknown placeholder {inptu}");
  ExpectRefused({"cat", "{input"}, "command[1]: unmatched '{'");
  ExpectRefused({"cat", "a}b"}, "command[1]: unmatched '}'");
  ExpectRefused({"cat", std::string("a\0b", 3)}, "command[1] holds a NUL");
  ExpectRefused(std::vector<std::string>(kMaxCommandArgs + 1, "x"),
                "more than the limit");
  ExpectRefused({"cat", std::string(kMaxCommandArgBytes + 1, 'x')},
                "command[1] is 65537 bytes");
}

TEST(CommandTemplateTest, ExpandsEveryPlaceholderAndLiteralBraces) {
  CommandValues values;
  values.input = "/in/a b.txt";
  values.output = "/out/.quarry-staging/x.tmp";
  values.name = "a b.txt";
  values.index = "7";
  values.job = "job-000001";
  values.attempt = "job-000001.7.2";
  EXPECT_EQ(*ExpandArgument("{input}|{output}|{name}|{index}|{job}|{attempt}",
                            values),
            "/in/a b.txt|/out/.quarry-staging/x.tmp|a b.txt|7|job-000001|"
            "job-000001.7.2");
  EXPECT_EQ(*ExpandArgument("awk '{{print $1}}' {name}", values),
            "awk '{print $1}' a b.txt");
  // A value is inserted as it is: braces in it are not expanded again.
  values.name = "{input}";
  EXPECT_EQ(*ExpandArgument("{name}", values), "{input}");
  EXPECT_FALSE(ExpandArgument("{nope}", values).ok());
}

TEST(CommandTemplateTest, TellsWhetherTheCommandWritesOutput) {
  EXPECT_TRUE(CommandUses(Command({"cp", "{input}", "{output}"}), "output"));
  EXPECT_FALSE(CommandUses(Command({"cat", "{input}"}), "output"));
  EXPECT_FALSE(CommandUses(Command({"echo", "{{output}}"}), "output"));
  EXPECT_TRUE(CommandUses(Command({"sh", "-c", "x > {output}"}), "output"));
}

}  // namespace
}  // namespace quarry
