//! Values written back as the Rust expressions that rebuild them (feature
//! `codegen`). The code generator runs each operator's `prepare` on the host
//! and emits the resulting params as a `const` of the runtime's own type, so
//! interpreter and generated code share one definition of every op.
//!
//! Params types derive [`Literal`] with `mote-derive`; paths are written from
//! the crate root (`mote_runtime::ops::conv_2d::Conv2dParams { .. }`), so the
//! generated code needs `mote_runtime` in scope.

use core::fmt::{self, Write};

/// A value that can write itself as a Rust expression.
pub trait Literal {
    /// Writes the expression that rebuilds `self`.
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result;
}

/// Writes expressions with one field per line, indented.
pub struct Writer<'w> {
    out: &'w mut dyn Write,
    indent: usize,
    relocate: Option<&'w dyn Fn(u32) -> u32>,
}

impl<'w> Writer<'w> {
    /// A writer whose lines after the first are indented by `indent` levels.
    pub fn new(out: &'w mut dyn Write, indent: usize) -> Self {
        Writer {
            out,
            indent,
            relocate: None,
        }
    }

    /// A writer that writes every [`Persistent`](crate::ops::Persistent)
    /// handle's distance from the region's end through `relocate` (the code
    /// generator moves persistent data when it drops the stored params).
    pub fn relocating(
        out: &'w mut dyn Write,
        indent: usize,
        relocate: &'w dyn Fn(u32) -> u32,
    ) -> Self {
        Writer {
            out,
            indent,
            relocate: Some(relocate),
        }
    }

    /// Writes `text` as it is.
    pub fn raw(&mut self, text: &str) -> fmt::Result {
        self.out.write_str(text)
    }

    /// Starts `head {` or `head(`; the items that follow go one per line.
    pub fn open(&mut self, head: &str, bracket: char) -> fmt::Result {
        self.out.write_str(head)?;
        if bracket == '{' {
            self.out.write_str(" ")?;
        }
        self.out.write_char(bracket)?;
        self.indent += 1;
        Ok(())
    }

    /// One item on its own line: `name: value,` or `value,`.
    pub fn item(&mut self, name: Option<&str>, value: &dyn Literal) -> fmt::Result {
        self.newline()?;
        if let Some(name) = name {
            write!(self.out, "{name}: ")?;
        }
        value.write_literal(self)?;
        self.out.write_char(',')
    }

    /// One argument on its own line, labelled in a comment: `/* name */ value,`.
    pub fn comment_item(&mut self, name: &str, value: &dyn Literal) -> fmt::Result {
        self.newline()?;
        write!(self.out, "/* {name} */ ")?;
        value.write_literal(self)?;
        self.out.write_char(',')
    }

    /// Ends what [`Writer::open`] started.
    pub fn close(&mut self, bracket: char) -> fmt::Result {
        self.indent = self.indent.saturating_sub(1);
        self.newline()?;
        self.out.write_char(bracket)
    }

    fn newline(&mut self) -> fmt::Result {
        self.out.write_char('\n')?;
        for _ in 0..self.indent {
            self.out.write_str("    ")?;
        }
        Ok(())
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
                write!(out.out, "{self}")
            }
        }
    )*};
}
integers!(u8, i8, u16, i16, u32, i32, u64, i64, usize, isize);

macro_rules! floats {
    ($($t:ident),*) => {$(
        impl Literal for $t {
            fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
                // `{:?}` is the shortest text that parses back to the same
                // value, always with a `.` or an exponent.
                if self.is_finite() {
                    write!(out.out, "{self:?}")
                } else if self.is_nan() {
                    out.raw(concat!(stringify!($t), "::NAN"))
                } else if *self > 0.0 {
                    out.raw(concat!(stringify!($t), "::INFINITY"))
                } else {
                    out.raw(concat!(stringify!($t), "::NEG_INFINITY"))
                }
            }
        }
    )*};
}
floats!(f32, f64);

impl Literal for bool {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        write!(out.out, "{self}")
    }
}

impl<T: Literal> Literal for Option<T> {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        match self {
            None => out.raw("None"),
            Some(value) => {
                out.raw("Some(")?;
                value.write_literal(out)?;
                out.raw(")")
            }
        }
    }
}

/// Arrays and tuples of numbers stay on one line.
fn inline(out: &mut Writer<'_>, open: &str, items: &[&dyn Literal], close: &str) -> fmt::Result {
    out.raw(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.raw(", ")?;
        }
        item.write_literal(out)?;
    }
    out.raw(close)
}

impl<T: Literal, const N: usize> Literal for [T; N] {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        out.raw("[")?;
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.raw(", ")?;
            }
            item.write_literal(out)?;
        }
        out.raw("]")
    }
}

impl<A: Literal, B: Literal> Literal for (A, B) {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        inline(out, "(", &[&self.0, &self.1], ")")
    }
}

impl<A: Literal, B: Literal, C: Literal> Literal for (A, B, C) {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        inline(out, "(", &[&self.0, &self.1, &self.2], ")")
    }
}

impl Literal for crate::TensorType {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        // The variant's name is its derived `Debug` text.
        write!(out.out, "mote_runtime::TensorType::{self:?}")
    }
}

impl Literal for crate::ops::Persistent {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        let (from_end, len) = self.parts();
        let from_end = match out.relocate {
            Some(relocate) if len > 0 => relocate(from_end),
            _ => from_end,
        };
        out.open("mote_runtime::ops::context::Persistent::from_literal", '(')?;
        out.comment_item("from_end", &from_end)?;
        out.comment_item("len", &len)?;
        out.close(')')
    }
}

impl Literal for crate::BuiltinOperator {
    fn write_literal(&self, out: &mut Writer<'_>) -> fmt::Result {
        write!(out.out, "mote_runtime::BuiltinOperator({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    fn text(value: &dyn Literal) -> String {
        let mut s = String::new();
        value.write_literal(&mut Writer::new(&mut s, 0)).unwrap();
        s
    }

    #[test]
    fn numbers_tuples_and_arrays_are_rust_expressions() {
        assert_eq!(text(&-128i8), "-128");
        assert_eq!(text(&(1usize, -2isize)), "(1, -2)");
        assert_eq!(text(&[1u8, 2, 3]), "[1, 2, 3]");
        assert_eq!(text(&Some(true)), "Some(true)");
        assert_eq!(text(&None::<i32>), "None");
    }

    #[test]
    fn floats_round_trip_exactly() {
        for x in [
            0.1f32,
            1.0,
            -0.0,
            1e-7,
            f32::MAX,
            f32::MIN_POSITIVE,
            3.0e-45,
        ] {
            let written = text(&x);
            assert_eq!(
                written.parse::<f32>().unwrap().to_bits(),
                x.to_bits(),
                "{written}"
            );
            assert!(written.contains('.') || written.contains('e'), "{written}");
        }
        assert_eq!(text(&f32::INFINITY), "f32::INFINITY");
        assert_eq!(text(&f64::NEG_INFINITY), "f64::NEG_INFINITY");
        assert_eq!(text(&f32::NAN), "f32::NAN");
    }

    #[test]
    fn derived_structs_write_one_field_per_line() {
        let window = crate::ops::conv_2d::Window {
            batches: 1,
            in_height: 2,
            in_width: 3,
            in_depth: 4,
            filter_height: 1,
            filter_width: 1,
            out_height: 2,
            out_width: 3,
            out_depth: 5,
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            pad_height: 0,
            pad_width: 0,
        };
        let written = text(&window);
        assert!(written.starts_with("mote_runtime::ops::conv_2d::Window {\n    batches: 1,\n"));
        assert!(written.ends_with("    pad_width: 0,\n}"));
    }

    #[test]
    fn private_fields_go_through_the_hidden_constructor() {
        let p = crate::ops::Persistent::EMPTY;
        assert_eq!(
            text(&p),
            "mote_runtime::ops::context::Persistent::from_literal(\n    /* from_end */ 0,\n    /* len */ 0,\n)"
        );
    }
}
