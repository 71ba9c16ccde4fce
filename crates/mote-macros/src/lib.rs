//! `include_model!(Name, "path/to/model.tflite")`: the model compiled into
//! Rust by [`mote_codegen`] while the crate builds. Use it through the `mote`
//! crate (`mote::include_model!`), whose `runtime` the generated code calls.
//!
//! The path is relative to the crate's `Cargo.toml` directory. Nothing is
//! written to disk; the model file is tracked, so editing it rebuilds. A
//! model mote cannot compile is a compile error that names the operator and
//! its index.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

/// Compiles a `.tflite` model into a struct `Name` with `ARENA_BYTES`,
/// `new`, `invoke`, typed `input_0`/`output_0` (and `predict` for one input
/// and one output), and quantize/dequantize helpers for quantized ones.
/// The `mote` crate's documentation has a runnable example.
#[proc_macro]
pub fn include_model(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    match syn::parse::<Args>(input) {
        Ok(args) => expand(&args, std::path::Path::new(&manifest_dir)).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// `Name, "path"`.
struct Args {
    name: Ident,
    path: LitStr,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![,]>()?;
        let path = input.parse()?;
        let _ = input.parse::<Option<Token![,]>>()?;
        Ok(Args { name, path })
    }
}

/// The expansion: the generated module and a `use` of its struct, or a
/// `compile_error!` that says why not.
fn expand(args: &Args, manifest_dir: &std::path::Path) -> TokenStream {
    let error = |message: String, span: Span| syn::Error::new(span, message).to_compile_error();
    let relative = args.path.value();
    let path = manifest_dir.join(&relative);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return error(
                format!(
                    "include_model!: cannot read `{relative}` (relative to {}): {e}",
                    manifest_dir.display()
                ),
                args.path.span(),
            )
        }
    };
    let name = args.name.to_string();
    let source = match mote_codegen::generate(&bytes, &name) {
        Ok(source) => source,
        Err(e) => {
            return error(
                format!("include_model!: `{relative}`: {e}"),
                args.path.span(),
            )
        }
    };
    let items: TokenStream = match source.parse() {
        Ok(items) => items,
        Err(e) => {
            return error(
                format!("include_model!: generated code does not parse: {e}"),
                args.path.span(),
            )
        }
    };
    let module = format_ident!("__mote_model_{}", name.to_lowercase());
    let ident = &args.name;
    let tracked = path.display().to_string();
    quote! {
        #[doc(hidden)]
        #[allow(dead_code)]
        mod #module {
            use ::mote::runtime as mote_runtime;
            // Rebuild when the model changes.
            const _: &[u8] = include_bytes!(#tracked);
            #items
        }
        pub use #module::#ident;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_text(tokens: TokenStream, dir: &std::path::Path) -> String {
        let args: Args = syn::parse2(tokens).unwrap();
        expand(&args, dir).to_string()
    }

    fn runtime_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mote-runtime")
    }

    #[test]
    fn a_model_expands_to_its_struct() {
        let text = expand_text(quote!(Line, "tests/data/line.tflite"), &runtime_dir());
        assert!(text.contains("pub struct Line"), "{text}");
        assert!(text.contains("pub use __mote_model_line :: Line"), "{text}");
    }

    #[test]
    fn a_missing_file_names_the_path_relative_to_the_crate() {
        let text = expand_text(quote!(Kws, "models/kws.tflite"), &runtime_dir());
        assert!(text.contains("compile_error"), "{text}");
        assert!(
            text.contains("cannot read `models/kws.tflite` (relative to"),
            "{text}"
        );
    }

    #[test]
    fn an_unsupported_op_is_a_compile_error_naming_it_and_its_index() {
        let assets = std::env::var("MOTE_ASSETS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
            });
        let text = expand_text(
            quote!(Person, "tflm/person_detection/person_detect_vela.tflite"),
            &assets,
        );
        assert!(text.contains("compile_error"), "{text}");
        assert!(
            text.contains("operator 0 (CUSTOM:ethos-u) is not supported"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_name_is_refused() {
        let text = expand_text(quote!(_x, "tests/data/line.tflite"), &runtime_dir());
        assert!(text.contains("is not a Rust type name"), "{text}");
    }
}
