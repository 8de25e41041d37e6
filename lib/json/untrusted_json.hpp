// SPDX-License-Identifier: Apache-2.0
// The one way Vigil reads JSON that someone else wrote: a site's body, a Kafka value, a registry's
// answer, a sites-topic message, a site list.
//
// RapidJSON 1.1.0 (Debian 12) reads out of bounds converting some numbers (CVE-2024-38517 and
// its family: "0.1111...e-330" at full precision, "1e-2147483639" at any), skips half a byte-order
// mark, stops at an embedded NUL as if the text ended there, and its recursive writer and schema
// validator have no depth limit. So the reader runs iteratively with numbers handed over as text
// (RapidJSON never converts one), converts them with std::from_chars (exactly rounded, bounded),
// counts nesting, refuses a NUL or any byte after the document, and bounds the size. What it
// builds is an ordinary rapidjson::Document, so writing, JSON pointers and schema validation keep
// using RapidJSON on a document that cannot reach its broken paths.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace vigil::json {

struct Limits {
    std::size_t max_bytes = std::size_t{16} << 20;
    unsigned max_depth = 64;  // arrays and objects inside each other; the root is level 1
};

struct Error {
    std::size_t offset = 0;   // byte offset in the text where reading stopped
    std::string reason;       // one phrase, e.g. "Invalid value." or "nesting deeper than 64 levels"
    bool by_handler = false;  // the caller's handler stopped the reader (read() only)
};

/// Parses untrusted `text` into `doc`. On failure `doc` is null and the error says why and where.
std::optional<Error> parse(std::string_view text, rapidjson::Document& doc, const Limits& limits = {});

/// The value of a JSON number token (RFC 8259 syntax, already checked by the reader): an
/// integer that fits 64 bits as Int64/Uint64, anything else as the nearest double (underflow to
/// zero). nullopt when its magnitude is beyond a double's or the token is over 1 MiB.
struct Number {
    enum class Kind { Int64, Uint64, Double } kind = Kind::Double;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
};
std::optional<Number> number(std::string_view token, std::string& why);

/// A read-only RapidJSON input stream over exactly `size` bytes: no byte-order mark skipped, and
/// '\0' from the end on (so a NUL inside the text is seen by read() as text left over). RapidJSON's
/// own StringStream relies on a terminating NUL, and its UTF-8 validation takes up to three
/// continuation bytes without looking: a text cut inside a multi-byte sequence was read past its
/// end (found by the config fuzzer).
class BoundedStream {
  public:
    using Ch = char;
    BoundedStream(const char* data, std::size_t size) : begin_(data), src_(data), end_(data + size) {}
    Ch Peek() const { return src_ == end_ ? '\0' : *src_; }
    Ch Take() { return src_ == end_ ? '\0' : *src_++; }
    std::size_t Tell() const { return static_cast<std::size_t>(src_ - begin_); }
    bool at_end() const { return src_ == end_; }
    Ch* PutBegin() { return nullptr; }
    void Put(Ch) {}
    void Flush() {}
    std::size_t PutEnd(Ch*) { return 0; }

  private:
    const Ch* begin_;
    const Ch* src_;
    const Ch* end_;
};

}  // namespace vigil::json

template <>
struct rapidjson::StreamTraits<vigil::json::BoundedStream> {
    // Copy optimisation: the reader parses a scalar on a local copy, so Tell() during a
    // scalar's callback is still the scalar's first byte (json_list's splitter relies on it).
    enum { copyOptimization = 1 };  // NOLINT(readability-identifier-naming): RapidJSON names it
};

namespace vigil::json {

// RapidJSON 1.1.0 takes a lone low surrogate escape ("\\udc00") and writes it as the three bytes
// ED B0 80, which are not UTF-8 (PostgreSQL, for one, refuses them). Each becomes U+FFFD, as Go's
// encoding/json does; it is three bytes long too. Raw bytes were already checked as UTF-8.
inline bool has_surrogate(const char* s, std::size_t n) {
    for (std::size_t i = 0; i + 1 < n; ++i) {
        if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) {
            return true;
        }
    }
    return false;
}
inline std::string without_surrogates(const char* s, std::size_t n) {
    std::string out(s, n);
    for (std::size_t i = 0; i + 2 < n; ++i) {
        if (static_cast<unsigned char>(out[i]) == 0xED && static_cast<unsigned char>(out[i + 1]) >= 0xA0) {
            out.replace(i, 3, "\xEF\xBF\xBD");
            i += 2;
        }
    }
    return out;
}

/// Passes SAX events on to `Inner` with numbers converted safely and nesting counted.
template <typename Inner>
class Guard {
  public:
    Guard(Inner& inner, unsigned max_depth) : inner_(inner), max_depth_(max_depth) {}
    bool Null() { return inner_.Null(); }
    bool Bool(bool b) { return inner_.Bool(b); }
    bool Int(int i) { return inner_.Int(i); }
    bool Uint(unsigned u) { return inner_.Uint(u); }
    bool Int64(std::int64_t i) { return inner_.Int64(i); }
    bool Uint64(std::uint64_t u) { return inner_.Uint64(u); }
    bool Double(double d) { return inner_.Double(d); }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
        auto v = number({s, n}, why_);
        if (!v) {
            return false;
        }
        switch (v->kind) {
            case Number::Kind::Int64: return inner_.Int64(v->i);
            case Number::Kind::Uint64: return inner_.Uint64(v->u);
            case Number::Kind::Double: break;
        }
        return inner_.Double(v->d);
    }
    bool String(const char* s, rapidjson::SizeType n, bool copy) {
        if (!has_surrogate(s, n)) {
            return inner_.String(s, n, copy);
        }
        auto fixed = without_surrogates(s, n);
        return inner_.String(fixed.data(), n, true);
    }
    bool Key(const char* s, rapidjson::SizeType n, bool copy) {
        if (!has_surrogate(s, n)) {
            return inner_.Key(s, n, copy);
        }
        auto fixed = without_surrogates(s, n);
        return inner_.Key(fixed.data(), n, true);
    }
    bool StartObject() { return deeper() && inner_.StartObject(); }
    bool EndObject(rapidjson::SizeType n) { return --depth_, inner_.EndObject(n); }
    bool StartArray() { return deeper() && inner_.StartArray(); }
    bool EndArray(rapidjson::SizeType n) { return --depth_, inner_.EndArray(n); }

    /// Why the guard stopped the reader; empty when it did not (the handler or the text did).
    const std::string& why() const { return why_; }

  private:
    bool deeper() {
        if (++depth_ > max_depth_) {
            why_ = "nesting deeper than " + std::to_string(max_depth_) + " levels";
            return false;
        }
        return true;
    }
    Inner& inner_;
    unsigned max_depth_;
    unsigned depth_ = 0;
    std::string why_;
};

inline constexpr unsigned kReadFlags =
    rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

/// Reads `text` as SAX events from `in` (a BoundedStream over `text`, which a handler may ask
/// for its position) into `handler` (RapidJSON's Handler concept; numbers arrive as
/// Int64/Uint64/Double). A handler that returns false stops the reader ("stopped by the reader").
template <typename Handler>
std::optional<Error> read(std::string_view text, BoundedStream& in, Handler& handler, const Limits& limits = {}) {
    if (text.size() > limits.max_bytes) {
        return Error{0, "a document of " + std::to_string(text.size()) + " bytes, over the limit of " +
                            std::to_string(limits.max_bytes)};
    }
    Guard<Handler> guard(handler, limits.max_depth);
    rapidjson::Reader reader;
    auto ok = reader.Parse<kReadFlags>(in, guard);
    // RapidJSON's streams end at '\0': a NUL inside the text reads as its end.
    auto nul_at = [&](std::size_t at) { return at < text.size() && text[at] == '\0'; };
    if (!ok) {
        auto at = reader.GetErrorOffset();
        if (reader.GetParseErrorCode() == rapidjson::kParseErrorTermination) {
            if (guard.why().empty()) {
                return Error{at, "stopped by the reader", true};
            }
            return Error{at, guard.why()};
        }
        if (nul_at(at) || nul_at(in.Tell())) {
            return Error{nul_at(at) ? at : in.Tell(), "a NUL byte, which JSON text may not hold"};
        }
        return Error{at, rapidjson::GetParseError_En(reader.GetParseErrorCode())};
    }
    if (!in.at_end()) {
        return Error{in.Tell(), "a NUL byte, which JSON text may not hold"};
    }
    return std::nullopt;
}

template <typename Handler>
std::optional<Error> read(std::string_view text, Handler& handler, const Limits& limits = {}) {
    BoundedStream in(text.data(), text.size());
    return read(text, in, handler, limits);
}

}  // namespace vigil::json
