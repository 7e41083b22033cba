#include "leader/scheduling/placement.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SpreadTasksTest, SpreadsEvenlyMostFreeFirst) {
  EXPECT_THAT(SpreadTasks({4, 4}, 4), ElementsAre(0, 1, 0, 1));
  EXPECT_THAT(SpreadTasks({1, 3}, 3), ElementsAre(1, 1, 0));
}

TEST(SpreadTasksTest, StopsAtFreeSlots) {
  EXPECT_THAT(SpreadTasks({2, 1}, 10), ElementsAre(0, 0, 1));
}

TEST(SpreadTasksTest, NothingToDo) {
  EXPECT_THAT(SpreadTasks({}, 5), IsEmpty());
  EXPECT_THAT(SpreadTasks({0, 0}, 5), IsEmpty());
  EXPECT_THAT(SpreadTasks({3}, 0), IsEmpty());
  EXPECT_THAT(SpreadTasks({3}, -1), IsEmpty());
}

}  // namespace
}  // namespace quarry
