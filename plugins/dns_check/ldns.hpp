// SPDX-License-Identifier: Apache-2.0
// ldns for C++: its common.h #defines bool, true and false unless stdbool.h came first, which
// breaks the standard headers that follow (std::optional's operator<=> among them).
#pragma once

#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): sets __bool_true_false_are_defined

#include <ldns/ldns.h>
