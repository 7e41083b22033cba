#include "common/command_template.h"

#include <string>
#include <utility>
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

TEST(CommandTemplateTest, ShellQuoteMakesOneWordOfAnyText) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("it's $(rm -rf /) `x` \"y\""),
            "'it'\\''s $(rm -rf /) `x` \"y\"'");
}

TEST(CommandTemplateTest, ValidatesAReduceCommandNamingTheField) {
  EXPECT_TRUE(ValidateReduceCommand("cat {parts} > {output} # {job}").ok());
  EXPECT_TRUE(ValidateReduceCommand("awk '{{s+=$1}}' {parts}").ok());
  for (const auto& [reduce, text] :
       std::vector<std::pair<std::string, std::string>>{
           {"", "reduce is blank"},
           {"  \n", "reduce is blank"},
           {"cat {input}", "reduce: unknown placeholder {input} (known: "
                           "{parts}, {output}, {job}"},
           {"awk '{s+=$1}'", "reduce: unknown placeholder {s+=$1}"},
           {"cat {parts", "reduce: unmatched '{'"},
           {std::string("a\0b", 3), "reduce holds a NUL byte"},
           {std::string(kMaxCommandArgBytes + 1, 'x'), "more than the limit"},
       }) {
    const absl::Status status = ValidateReduceCommand(reduce);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_THAT(status.message(), HasSubstr(text));
  }
}

TEST(CommandTemplateTest, ExpandsAReduceCommandQuotingEveryPath) {
  const auto parts = Command({"/o/part-00000", "/o d/it's"});
  EXPECT_EQ(*ExpandReduceCommand("cat {parts} > {output}; echo {job} {{x}}",
                                 parts, "/o/.quarry-staging/r 1", "job-7"),
            "cat '/o/part-00000' '/o d/it'\\''s' > "
            "'/o/.quarry-staging/r 1'; echo 'job-7' {x}");
  EXPECT_EQ(*ExpandReduceCommand("wc -l {parts}", Command({}), "/r", "j"),
            "wc -l ");
  EXPECT_TRUE(ReduceUses("sort {parts} > {output}", "output"));
  EXPECT_FALSE(ReduceUses("sort {parts} # {{output}}", "output"));
}

}  // namespace
}  // namespace quarry
