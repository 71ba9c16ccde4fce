//! `#[derive(Literal)]` for mote-runtime's params types: the generated impl
//! of `crate::literal::Literal` writes a value back as the Rust expression
//! that rebuilds it, so the code generator can emit each operator's params as
//! a `const` of the runtime's own type.
//!
//! Only for use inside `mote-runtime` (the impl names `crate::literal`). A
//! struct whose fields are all `pub` is written as a struct literal; one with
//! private fields is written as a call to its `const fn from_literal(..)`,
//! which the type must define (hidden, without a feature).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, Visibility};

/// Derives `crate::literal::Literal` for a struct or enum without generics.
#[proc_macro_derive(Literal)]
pub fn derive_literal(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "derive(Literal) does not support generic types",
        ));
    }
    let name = &input.ident;
    let path = quote!(concat!(module_path!(), "::", stringify!(#name)));
    let (body, extra) = match &input.data {
        Data::Struct(data) => {
            let all_public = data
                .fields
                .iter()
                .all(|f| matches!(f.vis, Visibility::Public(_)));
            if all_public {
                (
                    write_fields(&quote!(Self), &path, &data.fields),
                    Tokens::new(),
                )
            } else {
                private_struct(&path, &data.fields)
            }
        }
        Data::Enum(data) => {
            let arms = data.variants.iter().map(|v| {
                let variant = &v.ident;
                let path = quote!(concat!(#path, "::", stringify!(#variant)));
                write_fields(&quote!(Self::#variant), &path, &v.fields)
            });
            (quote!(#(#arms)*), Tokens::new())
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(
                name,
                "derive(Literal) does not support unions",
            ))
        }
    };
    let body = match &input.data {
        Data::Enum(_) => quote!(match self { #body }),
        _ => body,
    };
    Ok(quote! {
        impl crate::literal::Literal for #name {
            fn write_literal(
                &self,
                __w: &mut crate::literal::Writer<'_>,
            ) -> ::core::fmt::Result {
                #body
            }
        }
        #extra
    })
}

/// Binding names for the fields, and the pattern that binds them.
fn bindings(constructor: &Tokens, fields: &Fields) -> (Vec<syn::Ident>, Tokens) {
    let names: Vec<_> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.ident
                .clone()
                .unwrap_or_else(|| format_ident!("field_{i}"))
        })
        .collect();
    let pattern = match fields {
        Fields::Named(_) => quote!(#constructor { #(#names),* }),
        Fields::Unnamed(_) => quote!(#constructor ( #(#names),* )),
        Fields::Unit => quote!(#constructor),
    };
    (names, pattern)
}

/// Writes `path { a: .., b: .. }`, `path(.., ..)` or `path`, as an enum arm
/// (`pattern => { .. }`) or a struct body (`let pattern = self; ..`).
fn write_fields(constructor: &Tokens, path: &Tokens, fields: &Fields) -> Tokens {
    let (names, pattern) = bindings(constructor, fields);
    let write = match fields {
        Fields::Named(_) => {
            let labels = names.iter().map(|n| n.to_string());
            quote! {
                __w.open(#path, '{')?;
                #( __w.item(Some(#labels), #names)?; )*
                __w.close('}')
            }
        }
        Fields::Unnamed(_) => quote! {
            __w.open(#path, '(')?;
            #( __w.item(None, #names)?; )*
            __w.close(')')
        },
        Fields::Unit => quote!(__w.raw(#path)),
    };
    if constructor.to_string().starts_with("Self ::") {
        quote!(#pattern => { #write })
    } else {
        quote! {
            #[allow(clippy::let_unit_value)]
            let #pattern = self;
            #write
        }
    }
}

/// A struct with private fields is written as a call to its
/// `from_literal` constructor, one argument per field in declaration order.
/// The type provides it itself, unconditionally (generated code is compiled
/// without the `codegen` feature).
fn private_struct(path: &Tokens, fields: &Fields) -> (Tokens, Tokens) {
    let (names, pattern) = bindings(&quote!(Self), fields);
    let labels = names.iter().map(|n| n.to_string());
    let body = quote! {
        let #pattern = self;
        __w.open(concat!(#path, "::from_literal"), '(')?;
        #( __w.comment_item(#labels, #names)?; )*
        __w.close(')')
    };
    (body, Tokens::new())
}
