// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "vigil/metrics.hpp"

TEST_CASE("metrics: a hidden gauge leaves the exposition until it is looked up again, keeping its reference",
          "[unit]") {
    vigil::Labels p0{{"partition", "0"}}, p1{{"partition", "1"}};
    auto& zero = vigil::gauge("vigil_test_hidden_lag", p0, "test");
    vigil::gauge("vigil_test_hidden_lag", p1).set(7);
    zero.set(3);
    auto text = vigil::render_prometheus();
    CHECK_THAT(text, Catch::Contains("vigil_test_hidden_lag{partition=\"0\"} 3\n"));
    vigil::hide_gauge("vigil_test_hidden_lag", p0);
    vigil::hide_gauge("vigil_test_no_such_family", p0);  // nothing to hide: no effect
    text = vigil::render_prometheus();
    CHECK_THAT(text, !Catch::Contains("vigil_test_hidden_lag{partition=\"0\"}"));
    CHECK_THAT(text, Catch::Contains("vigil_test_hidden_lag{partition=\"1\"} 7\n"));
    zero.set(4);  // still valid; still hidden
    CHECK_THAT(vigil::render_prometheus(), !Catch::Contains("vigil_test_hidden_lag{partition=\"0\"}"));
    CHECK(&vigil::gauge("vigil_test_hidden_lag", p0) == &zero);
    CHECK_THAT(vigil::render_prometheus(), Catch::Contains("vigil_test_hidden_lag{partition=\"0\"} 4\n"));
}
