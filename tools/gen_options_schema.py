#!/usr/bin/env python3
"""Generates crates/mote-runtime/src/model/options_schema.rs.

The table it writes is a fact of the .tflite format: for every member of the
`BuiltinOptions` and `BuiltinOptions2` unions, the options table's fields as
(field id, type, default, name). It is read from the FlatBuffers Python code
that ships with ai-edge-litert (`ai_edge_litert/schema_py_generated.py`):

  def <T>Add<Field>(builder, x): builder.Prepend<Type>Slot(<id>, x, <default>)
  def <T>Start<Field>Vector(builder, n): return builder.StartVector(<size>, n, <align>)
  class <T>: def <Field>(self, j): ... Get(flatbuffers.number_types.<Elem>Flags ...
                                       | self._tab.String(...) | Indirect (a table)

Usage: python tools/gen_options_schema.py [schema_py_generated.py [OUT.rs]]
(default: the one in the active Python's ai_edge_litert package, written to
crates/mote-runtime/src/model/options_schema.rs).
"""

import os
import re
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "crates", "mote-runtime", "src", "model", "options_schema.rs")

# Prepend<Type>Slot -> (Rust Value variant, Rust literal suffix).
SLOT = {
    "Bool": "Bool", "Int8": "I8", "Uint8": "U8", "Int16": "I16", "Uint16": "U16",
    "Int32": "I32", "Uint32": "U32", "Int64": "I64", "Uint64": "U64",
    "Float32": "F32", "Float64": "F64",
}
# number_types.<X>Flags -> element kind.
FLAGS = {
    "Bool": "Bool", "Int8": "I8", "Uint8": "U8", "Int16": "I16", "Uint16": "U16",
    "Int32": "I32", "Uint32": "U32", "Int64": "I64", "Uint64": "U64",
    "Float32": "F32", "Float64": "F64",
}
SIZE = {"Bool": 1, "I8": 1, "U8": 1, "I16": 2, "U16": 2, "I32": 4, "U32": 4,
        "I64": 8, "U64": 8, "F32": 4, "F64": 8, "String": 4, "Table": 4}


def snake(camel):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def union_members(src, name):
    block = re.search(r"^class %s\(object\):\n((?:    .*\n)+)" % name, src, re.M)
    members = []
    for line in block.group(1).splitlines():
        m = re.match(r"\s+(\w+) = (\d+)$", line)
        if m:
            members.append((int(m.group(2)), m.group(1)))
    return members


def class_methods(src, name):
    """Accessor bodies of class `name`, by method name and arity ('1' or 'j')."""
    block = re.search(r"^class %s\(object\):\n(.*?)(?=^\S)" % name, src, re.M | re.S)
    methods = {}
    if block is None:
        return methods
    for m in re.finditer(r"    def (\w+)\(self(, j)?\):\n((?:        .*\n|\n)+)", block.group(1)):
        methods[(m.group(1), "j" if m.group(2) else "1")] = m.group(3)
    return methods


def default_literal(kind, text):
    text = text.strip()
    if kind == "Bool":
        return "true" if text in ("True", "1") else "false"
    if kind in ("F32", "F64"):
        v = float(text)
        lit = repr(v)
        if lit in ("inf", "-inf", "nan"):
            return {"inf": "f32::INFINITY", "-inf": "f32::NEG_INFINITY", "nan": "f32::NAN"}[lit].replace("f32", kind.lower())
        return lit if "." in lit or "e" in lit else lit + ".0"
    return str(int(text))


def table_fields(src, name):
    methods = class_methods(src, name)
    fields = []
    for m in re.finditer(
            r"^def %sAdd(\w+)\(builder, \w+\):\n    builder\.Prepend(\w+)Slot\((\d+), (?:.*?\(\w+\)|\w+), ([^)]*)\)" % name,
            src, re.M):
        field, slot, fid, default = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        if slot == "UOffsetTRelative":
            vec = re.search(r"^def %sStart%sVector\(builder, numElems\):\n    return builder\.StartVector\((\d+)," % (name, field), src, re.M)
            if vec:
                body = methods.get((field, "j"), "")
                flag = re.search(r"Get\(flatbuffers\.number_types\.(\w+)Flags", body)
                if flag:
                    elem = FLAGS[flag.group(1)]
                elif "String(" in body:
                    elem = "String"
                else:
                    elem = "Table"
                assert SIZE[elem] == int(vec.group(1)), (name, field)
                ty = "T::Vector(E::%s)" % elem
            else:
                body = methods.get((field, "1"), "")
                ty = "T::String" if "String(" in body else "T::Table"
        else:
            kind = SLOT[slot]
            ty = "T::Scalar(V::%s(%s))" % (kind, default_literal(kind, default))
        fields.append((fid, snake(field), ty))
    fields.sort()
    return fields


def emit_union(src, union):
    members = union_members(src, union)
    lines = []
    count = max(tag for tag, _ in members) + 1
    by_tag = dict(members)
    for tag in range(count):
        name = by_tag.get(tag)
        if name is None or name == "NONE":
            lines.append("    None,")
            continue
        fields = table_fields(src, name)
        lines.append("    // %d" % tag)
        lines.append("    Some(OptionsTable {")
        lines.append('        name: "%s",' % name)
        if not fields:
            lines.append("        fields: &[],")
        else:
            lines.append("        fields: &[")
            for fid, fname, ty in fields:
                lines.append('            F { id: %d, name: "%s", ty: %s },' % (fid, fname, ty))
            lines.append("        ],")
        lines.append("    }),")
    return count, "\n".join(lines)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None
    out_path = sys.argv[2] if len(sys.argv) > 2 else OUT
    if path is None:
        import ai_edge_litert
        path = os.path.join(os.path.dirname(ai_edge_litert.__file__), "schema_py_generated.py")
    src = open(path).read()
    n1, body1 = emit_union(src, "BuiltinOptions")
    n2, body2 = emit_union(src, "BuiltinOptions2")
    out = f"""//! The fields of every builtin options table, by union tag: a fact of the
//! `.tflite` format (TensorFlow Lite's `schema.fbs`, unions `BuiltinOptions` and
//! `BuiltinOptions2`).
//!
//! Generated by `tools/gen_options_schema.py` from ai-edge-litert's
//! `schema_py_generated.py`; do not edit by hand.
#![cfg_attr(rustfmt, rustfmt_skip)]

use super::options::{{Elem as E, FieldDef as F, FieldType as T, OptionsTable, Value as V}};

/// `BuiltinOptions` members, indexed by union tag (`None` = no table for that tag).
pub static BUILTIN_OPTIONS: [Option<OptionsTable>; {n1}] = [
{body1}
];

/// `BuiltinOptions2` members, indexed by union tag.
pub static BUILTIN_OPTIONS_2: [Option<OptionsTable>; {n2}] = [
{body2}
];
"""
    with open(out_path, "w") as f:
        f.write(out)
    print("wrote %s (%d + %d union members)" % (out_path, n1, n2))


if __name__ == "__main__":
    main()
