// SPDX-License-Identifier: Apache-2.0
// Plugins build with -fvisibility=hidden; SDK types keep default visibility so their typeinfo and
// vtables are unique across the agent and every plugin (dynamic_cast and exceptions work).
#pragma once

#define VIGIL_API __attribute__((visibility("default")))
