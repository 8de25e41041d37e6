// SPDX-License-Identifier: Apache-2.0
// What a DNS answer says, read from the wire with ldns (never by hand), and what a site makes of
// it. Pure functions: the prober's event loop, the tests and the fuzzer call the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns_check_config.hpp"

namespace vigil::plugins::dns_check {

/// What the prober says of each check, as the record's `error` names it.
enum class Failure { None, Timeout, Connect, Malformed, Rcode, Answer, Expect };
std::string_view to_string(Failure f);

/// Bounds on what an answer may make a record hold: a hostile server may send 64 KiB of records.
inline constexpr std::size_t kMaxAnswers = 100;
inline constexpr std::size_t kMaxAnswerText = 512;  // characters of one record's data

struct Answer {
    std::string rcode;                 // NOERROR, NXDOMAIN, ... or RCODE<n> for one without a name
    std::vector<std::string> records;  // of the asked type, presentation form, sorted, no repeats
    std::size_t dropped = 0;           // records past kMaxAnswers
    bool truncated = false;            // the TC flag (c-ares asks again over TCP when it is set)
    bool authoritative = false;
};

/// Reads the wire form of an answer to a question of type `qtype` (its header, question and
/// answer section; the sections after those are not read); nullopt and `why` when it is not a
/// DNS message.
std::optional<Answer> read_answer(const std::uint8_t* data, std::size_t size, int qtype, std::string& why);

/// The records one per line: the record's `answers` and what `expect` is matched against.
std::string joined(const std::vector<std::string>& records);

/// What `site` makes of `answer`: Failure::None, or the failure and a one-line detail.
std::pair<Failure, std::string> judge(const Site& site, const Answer& answer);

}  // namespace vigil::plugins::dns_check
