//! Lenient OTLP/JSON scalars: each type accepts any JSON value; the right shape
//! gives `Ok`, a wrong one is consumed and gives `Err(reason)`, so one bad field
//! refuses its span without breaking the parse of its neighbours.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

//
// Each `Lenient*` type accepts any JSON value: the right shape gives `Ok`, a
// wrong one is consumed and gives `Err(reason)`. Only broken JSON syntax (or
// the nesting limit) is a serde error, which fails the whole body.

/// `s` cut to 40 characters, for quoting a bad value in a reason.
pub(super) fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// What a lenient visitor yields.
pub(super) type Got<T> = Result<T, String>;

/// Visits for every JSON type but strings and null: consume, and refuse.
macro_rules! wrong_nonstr_visits {
    ($what:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Err(format!("{} has the wrong JSON type (bool)", $what)))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Err(format!("{} has the wrong JSON type (number)", $what)))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Err(format!("{} has the wrong JSON type (number)", $what)))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Err(format!("{} has the wrong JSON type (number)", $what)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Err(format!("{} has the wrong JSON type (array)", $what)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Err(format!("{} has the wrong JSON type (object)", $what)))
        }
    };
}

/// Visits for scalars and arrays: consume, and refuse (for object-only values).
macro_rules! wrong_scalar_seq_visits {
    ($what:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Err(format!("{} must be an object", $what)))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Err(format!("{} must be an object", $what)))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Err(format!("{} must be an object", $what)))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Err(format!("{} must be an object", $what)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Err(format!("{} must be an object", $what)))
        }
    };
}
pub(super) use wrong_scalar_seq_visits;

/// A boolean.
pub(super) struct LBool(pub(super) Got<bool>);
impl<'de> Deserialize<'de> for LBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<bool>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Err("boolValue has the wrong JSON type (null)".into()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("boolValue has the wrong JSON type (string)".into()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Err("boolValue has the wrong JSON type (number)".into()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Err("boolValue has the wrong JSON type (number)".into()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Err("boolValue has the wrong JSON type (number)".into()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Ok(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Err("boolValue has the wrong JSON type (array)".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Err("boolValue has the wrong JSON type (object)".into()))
            }
        }
        d.deserialize_any(V).map(LBool)
    }
}

/// The one visitor behind the lenient integers: a JSON number or a decimal
/// string that fits `T`; `null` gives `null` when set, else it is refused.
struct IntVisitor<T> {
    null: Option<T>,
    bad: &'static str,
}

impl<'de, T> Visitor<'de> for IntVisitor<T>
where
    T: TryFrom<i64> + TryFrom<u64> + std::str::FromStr,
{
    type Value = Got<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.null.ok_or_else(|| self.bad.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(T::try_from(v).map_err(|_| self.bad.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(T::try_from(v).map_err(|_| self.bad.to_string()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(self.bad.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.parse().map_err(|_| self.bad.to_string()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(self.bad.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(self.bad.to_string()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(self.bad.to_string()))
    }
}

/// A signed 64-bit integer as a number or a decimal string.
pub(super) struct LI64(pub(super) Got<i64>);
impl<'de> Deserialize<'de> for LI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor {
            null: None,
            bad: "intValue must be a 64-bit integer",
        })
        .map(LI64)
    }
}

/// A double as a number or a string (`"NaN"`, `"Infinity"`, `"1.5"`).
pub(super) struct LF64(pub(super) Got<f64>);
impl<'de> Deserialize<'de> for LF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const BAD: &str = "doubleValue must be a number";
        impl<'de> Visitor<'de> for V {
            type Value = Got<f64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Err(BAD.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Ok(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Ok(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Ok(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.parse().map_err(|_| BAD.to_string()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Err(BAD.into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Err(BAD.into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Err(BAD.into()))
            }
        }
        d.deserialize_any(V).map(LF64)
    }
}

/// An element type of [`LList`].
pub(super) struct LStr(pub(super) Got<String>);
impl<'de> Deserialize<'de> for LStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ok(String::new()))
            }
            wrong_nonstr_visits!("the value");
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Ok(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Ok(v))
            }
        }
        d.deserialize_any(V).map(LStr)
    }
}

/// An unsigned 64-bit integer as a number or a decimal string (null → 0).
pub(super) struct LU64(pub(super) Got<u64>);
impl<'de> Deserialize<'de> for LU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor {
            null: Some(0),
            bad: "must be an unsigned 64-bit integer",
        })
        .map(LU64)
    }
}

/// An enum as an integer, or (tolerated) as its name from `names` (null → 0).
pub(super) struct LEnum(pub(super) Got<i32>);
fn lenient_enum<'de, D: Deserializer<'de>>(
    d: D,
    names: &'static [&'static str],
) -> Result<LEnum, D::Error> {
    struct V(&'static [&'static str]);
    const BAD: &str = "must be an integer enum value";
    impl<'de> Visitor<'de> for V {
        type Value = Got<i32>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an enum value")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Ok(0))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i32::try_from(v).map_err(|_| BAD.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(i32::try_from(v).map_err(|_| BAD.to_string()))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Err(BAD.to_string()))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(self
                .0
                .iter()
                .position(|n| *n == v)
                .map(|p| p as i32)
                .ok_or_else(|| format!("unknown enum name {:?}", truncate(v))))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Err(BAD.to_string()))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Err(BAD.to_string()))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Err(BAD.to_string()))
        }
    }
    d.deserialize_any(V(names)).map(LEnum)
}

pub(super) struct KindEnum(pub(super) LEnum);
impl<'de> Deserialize<'de> for KindEnum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_enum(d, &KIND_NAMES).map(KindEnum)
    }
}
pub(super) struct StatusEnum(pub(super) LEnum);
impl<'de> Deserialize<'de> for StatusEnum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_enum(d, &STATUS_NAMES).map(StatusEnum)
    }
}

const KIND_NAMES: [&str; 6] = [
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_NAMES: [&str; 3] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];
