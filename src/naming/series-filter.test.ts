import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createSeriesFilter,
  filterSeries,
  filtersForRule,
  matchesFilter,
} from "./series-filter.ts";
import { NamingError } from "./errors.ts";

const names = (xs: string[]) => xs.map((name) => ({ name }));

// Upstream pkg/naming/regex_matcher_test.go.
test("is matches positively, isNot negatively", () => {
  const is = createSeriesFilter({ is: "my_.*" });
  assert.equal(matchesFilter(is, "my_label"), true);
  assert.equal(matchesFilter(is, "your_label"), false);
  const isNot = createSeriesFilter({ isNot: "my_.*" });
  assert.equal(matchesFilter(isNot, "my_label"), false);
  assert.equal(matchesFilter(isNot, "your_label"), true);
});

test("a filter takes is or isNot but not both, and not neither", () => {
  assert.throws(() => createSeriesFilter({ is: "my_.*", isNot: "your_.*" }), NamingError);
  assert.throws(
    () => createSeriesFilter({}),
    /must have either an `is` or `isNot` expression in a filter/,
  );
});

// Upstream pkg/custom-provider/series_filterer_test.go.
test("positive and negative filters select series", () => {
  const series = names(["one_of_yes", "one_of_no"]);
  assert.deepEqual(filterSeries([createSeriesFilter({ is: "one_of_(yes|positive|ok)" })], series), [
    { name: "one_of_yes" },
  ]);
  assert.deepEqual(
    filterSeries([createSeriesFilter({ isNot: "one_of_(yes|positive|ok)" })], series),
    [{ name: "one_of_no" }],
  );
});

test("filters are AND-ed", () => {
  const series = names(["series_1", "series_2", "series_3"]);
  const one = [createSeriesFilter({ is: "series_\\d+" })];
  assert.equal(filterSeries(one, series).length, 3);
  const two = [...one, createSeriesFilter({ is: "series_[2-3]" })];
  assert.deepEqual(filterSeries(two, series), names(["series_2", "series_3"]));
});

test("name.matches adds an implicit is filter after seriesFilters", () => {
  const filters = filtersForRule({
    seriesFilters: [{ isNot: "^container_.*_seconds_total$" }],
    name: { matches: "^container_(.*)_total$" },
  });
  assert.equal(filters.length, 2);
  assert.deepEqual(
    filterSeries(
      filters,
      names([
        "container_cpu_usage_seconds_total",
        "container_fs_reads_total",
        "container_last_seen",
      ]),
    ),
    names(["container_fs_reads_total"]),
  );
  assert.equal(filtersForRule({}).length, 0);
});

test("a bad regex is reported with upstream's prefix", () => {
  assert.throws(
    () => createSeriesFilter({ is: "(?=x)" }),
    /unable to compile series filter "\(\?=x\)"/,
  );
});
