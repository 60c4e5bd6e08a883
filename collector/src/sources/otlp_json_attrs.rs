//! Lenient OTLP/JSON attributes: `KeyValue` lists, `AnyValue` (with nested
//! arrays and key/value lists), and the strict form used for resource attributes
//! (where a bad attribute fails the whole body).

use super::otlp_json_lenient::{truncate, wrong_scalar_seq_visits, Got, LBool, LStr, LF64, LI64};
use super::otlp_proto::{any_value, AnyValue, ArrayValue, KeyValue, KeyValueList};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

pub(super) trait Lenient {
    type Out;
    fn got(self) -> Got<Self::Out>;
}
impl Lenient for LAny {
    type Out = Option<AnyValue>;
    fn got(self) -> Got<Self::Out> {
        self.0
    }
}
impl Lenient for LKv {
    type Out = KeyValue;
    fn got(self) -> Got<Self::Out> {
        self.0
    }
}

/// `{"values": [T, …]}` (arrayValue, kvlistValue); the first bad element refuses it.
pub(super) struct LList<T: Lenient>(pub(super) Got<Vec<T::Out>>);
impl<'de, T: Lenient + Deserialize<'de>> Deserialize<'de> for LList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Items<T: Lenient>(Got<Vec<T::Out>>);
        impl<'de, T: Lenient + Deserialize<'de>> Deserialize<'de> for Items<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct IV<T>(std::marker::PhantomData<T>);
                impl<'de, T: Lenient + Deserialize<'de>> Visitor<'de> for IV<T> {
                    type Value = Got<Vec<T::Out>>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an array")
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                        Ok(Ok(Vec::new()))
                    }
                    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                        Ok(Err("values must be an array".into()))
                    }
                    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                        Ok(Err("values must be an array".into()))
                    }
                    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                        Ok(Err("values must be an array".into()))
                    }
                    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                        Ok(Err("values must be an array".into()))
                    }
                    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                        Ok(Err("values must be an array".into()))
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                        Ok(Err("values must be an array".into()))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Self::Value, A::Error> {
                        let mut out = Vec::new();
                        let mut err = None;
                        while let Some(item) = seq.next_element::<T>()? {
                            match item.got() {
                                Ok(v) => out.push(v),
                                Err(e) => {
                                    err.get_or_insert(e);
                                }
                            }
                        }
                        Ok(match err {
                            Some(e) => Err(e),
                            None => Ok(out),
                        })
                    }
                }
                d.deserialize_any(IV::<T>(std::marker::PhantomData))
                    .map(Items)
            }
        }
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Lenient + Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Got<Vec<T::Out>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with `values`")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("must be an object".into()))
            }
            wrong_scalar_seq_visits!("the list");
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Ok(Vec::new());
                while let Some(k) = map.next_key::<String>()? {
                    if k == "values" {
                        out = map.next_value::<Items<T>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V::<T>(std::marker::PhantomData))
            .map(LList)
    }
}

/// A list of attributes (null → empty); the first bad one refuses the list.
pub(super) struct LAttrs(pub(super) Got<Vec<KeyValue>>);
impl<'de> Deserialize<'de> for LAttrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<Vec<KeyValue>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of attributes")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ok(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("must be an array".into()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Err("must be an array".into()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Err("must be an array".into()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Err("must be an array".into()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Err("must be an array".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Err("must be an array".into()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut err = None;
                while let Some(kv) = seq.next_element::<LKv>()? {
                    match kv.0 {
                        Ok(kv) => out.push(kv),
                        Err(e) => {
                            err.get_or_insert(e);
                        }
                    }
                }
                Ok(match err {
                    Some(e) => Err(e),
                    None => Ok(out),
                })
            }
        }
        d.deserialize_any(V).map(LAttrs)
    }
}

/// A resource attribute: a bad one fails the whole body.
pub(super) struct StrictKv(pub(super) KeyValue);
impl<'de> Deserialize<'de> for StrictKv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LKv::deserialize(d)?
            .0
            .map(StrictKv)
            .map_err(|e| de::Error::custom(format!("resource attribute: {e}")))
    }
}

/// `{"key": …, "value": AnyValue}`.
pub(super) struct LKv(pub(super) Got<KeyValue>);
impl<'de> Deserialize<'de> for LKv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<KeyValue>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Err("an attribute must be an object".into()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("an attribute must be an object".into()))
            }
            wrong_scalar_seq_visits!("an attribute");
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut kv = KeyValue::default();
                let mut err = None;
                while let Some(k) = map.next_key::<String>()? {
                    let r = match k.as_str() {
                        "key" => map.next_value::<LStr>()?.0.map(|s| kv.key = s),
                        "value" => map.next_value::<LAny>()?.0.map(|v| kv.value = v),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            Ok(())
                        }
                    };
                    if let Err(e) = r {
                        err.get_or_insert(e);
                    }
                }
                Ok(match err {
                    Some(e) => Err(format!("attribute {:?}: {e}", truncate(&kv.key))),
                    None => Ok(kv),
                })
            }
        }
        d.deserialize_any(V).map(LKv)
    }
}

/// An `AnyValue` object (null → absent).
pub(super) struct LAny(pub(super) Got<Option<AnyValue>>);
impl<'de> Deserialize<'de> for LAny {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Got<Option<AnyValue>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an AnyValue object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ok(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Err("an AnyValue must be an object".into()))
            }
            wrong_scalar_seq_visits!("an AnyValue");
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use any_value::Value as AV;
                let mut out = None;
                let mut err = None;
                while let Some(k) = map.next_key::<String>()? {
                    let r: Got<Option<AV>> = match k.as_str() {
                        "stringValue" => map
                            .next_value::<LStr>()?
                            .0
                            .map(|s| Some(AV::StringValue(s))),
                        "boolValue" => map.next_value::<LBool>()?.0.map(|b| Some(AV::BoolValue(b))),
                        "intValue" => map.next_value::<LI64>()?.0.map(|i| Some(AV::IntValue(i))),
                        "doubleValue" => map
                            .next_value::<LF64>()?
                            .0
                            .map(|f| Some(AV::DoubleValue(f))),
                        "arrayValue" => map.next_value::<LList<LAny>>()?.0.map(|vs| {
                            Some(AV::ArrayValue(ArrayValue {
                                values: vs.into_iter().map(|v| v.unwrap_or_default()).collect(),
                            }))
                        }),
                        "kvlistValue" => map
                            .next_value::<LList<LKv>>()?
                            .0
                            .map(|vs| Some(AV::KvlistValue(KeyValueList { values: vs }))),
                        // Bytes are base64 in JSON; war-room does not read byte attributes.
                        "bytesValue" => map
                            .next_value::<LStr>()?
                            .0
                            .map(|_| Some(AV::BytesValue(Vec::new()))),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            Ok(None)
                        }
                    };
                    match r {
                        Ok(Some(v)) => out = Some(v),
                        Ok(None) => {}
                        Err(e) => {
                            err.get_or_insert(format!("`{k}`: {e}"));
                        }
                    }
                }
                Ok(match err {
                    Some(e) => Err(e),
                    None => Ok(Some(AnyValue { value: out })),
                })
            }
        }
        d.deserialize_any(V).map(LAny)
    }
}
