//! Builds the firmware for each model, runs it on QEMU's Cortex-M4 and checks
//! its outputs against mote-runtime on the host, byte for byte.
//!
//! For the report each model is built twice: with the reference kernels and a
//! large arena (which tells the bytes it uses on the 32-bit target), then with
//! the DSP kernels and exactly that arena, so the static RAM reported is what a
//! device needs. `--budget` links one model for a real chip's flash and RAM.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};

use crate::{elf, qemu};

#[path = "../../firmware/src/input.rs"]
mod input;
use input::Fill;

/// One line of `firmware/models.txt`.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) input: InputKind,
}

/// How the input of a run is made.
pub(crate) enum InputKind {
    /// Seeded uniform floats in `[low, high)` (float inputs) or uniform values
    /// of the input's integer type.
    Uniform(f32, f32),
    /// All zero bytes.
    Zeros,
}

/// What one firmware run printed and weighed.
#[derive(Clone)]
struct Run {
    output: Vec<u8>,
    instructions: u64,
    arena_used: usize,
    /// The deepest stack, in bytes (the firmware paints free RAM).
    stack: usize,
    sizes: elf::Sizes,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn assets() -> PathBuf {
    std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/assets"))
}

pub(crate) fn entries() -> Result<Vec<Entry>> {
    let list = root().join("firmware/models.txt");
    let text = std::fs::read_to_string(&list).with_context(|| format!("{}", list.display()))?;
    let mut entries = Vec::new();
    let mut made = false;
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: expected `name path uniform LOW HIGH` or `name path zeros`",
                list.display(),
                n + 1
            )
        };
        let path = words.get(1).with_context(bad)?;
        let path = PathBuf::from(
            path.replace("$MOTE_ASSETS", &assets().to_string_lossy())
                .replace("$ROOT", &root().to_string_lossy())
                .replace("$MADE", &made_dir().to_string_lossy()),
        );
        let input = match words.get(2..) {
            Some(["uniform", low, high]) => InputKind::Uniform(low.parse()?, high.parse()?),
            Some(["zeros"]) => InputKind::Zeros,
            _ => bail!(bad()),
        };
        if let Ok(only) = std::env::var("MOTE_FIRMWARE_MODELS") {
            if !only.split(',').any(|n| n == words[0]) {
                continue;
            }
        }
        if words[1].starts_with("$MADE") && !made {
            make_models()?;
            made = true;
        }
        entries.push(Entry {
            name: words[0].to_string(),
            path,
            input,
        });
    }
    Ok(entries)
}

/// Where `firmware/made.sh` writes the models it derives from the assets.
fn made_dir() -> PathBuf {
    root().join("firmware/target/made")
}

/// Runs `firmware/made.sh`, which derives models from the shared assets with
/// mote's own commands (a debug `mote`, built here if needed) into [`made_dir`].
fn make_models() -> Result<()> {
    let status = Command::new("cargo")
        .args(["build", "--quiet", "-p", "mote-cli"])
        .current_dir(root())
        .status()
        .context("cargo build -p mote-cli")?;
    if !status.success() {
        bail!("cargo build -p mote-cli failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let status = Command::new("sh")
        .arg(root().join("firmware/made.sh"))
        .arg(target.join("debug/mote"))
        .arg(made_dir())
        .env("MOTE_ASSETS", assets())
        .stdout(Stdio::null())
        .status()
        .context("sh firmware/made.sh")?;
    if !status.success() {
        bail!("firmware/made.sh failed");
    }
    Ok(())
}

/// How input 0 of `model` is filled, and the bytes that makes: the
/// firmware makes the same bytes itself (`firmware/src/input.rs`, shared).
pub(crate) fn make_input(model: &Model<'_>, kind: &InputKind) -> Result<(Fill, Vec<u8>)> {
    let graph = model.main();
    let tensor = graph
        .inputs()
        .get(0)
        .and_then(|t| graph.tensor(t))
        .context("the model has no input")?;
    let fill = match (kind, tensor.dtype()) {
        (InputKind::Zeros, _) => Fill::Zeros,
        (&InputKind::Uniform(low, high), TensorType::Float32) => Fill::Floats { low, high },
        (InputKind::Uniform(..), _) => Fill::Bytes,
    };
    let n = tensor.shape().elements();
    let mut bytes = vec![0; tensor.dtype().bytes_for(n).unwrap_or(0)];
    input::fill(&mut bytes, fill);
    Ok((fill, bytes))
}

/// `fill` as the firmware's build script reads it from `MOTE_INPUT`.
fn fill_setting(fill: Fill) -> String {
    match fill {
        Fill::Zeros => "zeros".into(),
        Fill::Bytes => "bytes".into(),
        Fill::Floats { low, high } => format!("floats {:#x} {:#x}", low.to_bits(), high.to_bits()),
    }
}

/// Runs the model on the host as the firmware does and returns the bytes of
/// every output, in order.
fn host_output(model: &Model<'_>, input: &[u8]) -> Result<Vec<u8>> {
    let mut arena = vec![0u8; 64 << 20];
    let mut interpreter = Interpreter::new(model, &mut arena, &OpResolver::all())?;
    // Two invokes, as the firmware does (an untimed one, then the timed one):
    // stateful models such as an audio front-end answer differently the second time.
    for _ in 0..2 {
        interpreter.input_bytes_mut(0)?.copy_from_slice(input);
        interpreter.invoke()?;
    }
    let mut out = Vec::new();
    for o in 0..interpreter.output_count() {
        out.extend_from_slice(interpreter.output_bytes(o)?);
    }
    Ok(out)
}

/// How one firmware is built.
pub(crate) struct Build<'a> {
    /// Arena bytes.
    arena: usize,
    /// The runtime's reference kernels instead of the DSP ones.
    reference: bool,
    /// The cargo profile (`release`, or `small` for the budget check).
    profile: &'a str,
    /// A `memory.x` to link with instead of the board's.
    memory: Option<&'a Path>,
    /// The model compiled ahead of time by mote-codegen instead of interpreted.
    compiled: bool,
}

impl Build<'_> {
    /// The DSP kernels, release profile, the board's memory.
    pub(crate) fn dsp(arena: usize) -> Self {
        Build {
            arena,
            reference: false,
            profile: "release",
            memory: None,
            compiled: false,
        }
    }
}

/// What the model needs of the runtime beyond int8: `int4` for int4 tensors,
/// `lut` for LUT-compressed ones (`COMPRESSION_METADATA`), `depthwise-3x3`
/// for an undilated 3x3 DEPTHWISE_CONV_2D (its channel-group kernel),
/// `conv-1x1` for a 1x1 CONV_2D at stride 1 (its pointwise passes),
/// `conv-padded` for filter rows that are not whole words (a CONV_2D's
/// width times depth, or a DEPTHWISE_CONV_2D's width, which CONV_2D's kernel
/// runs for one input channel); other models leave these features out to
/// save flash.
struct Needs {
    int4: bool,
    lut: bool,
    depthwise_3x3: bool,
    conv_1x1: bool,
    conv_padded: bool,
}

fn needs(model_path: &Path) -> Result<Needs> {
    let bytes = std::fs::read(model_path).with_context(|| format!("{}", model_path.display()))?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", model_path.display()))?;
    let graph = model.main();
    let tensors = || (0..graph.tensor_count()).filter_map(|t| graph.tensor(t));
    // Each op with a 4-D filter (its second input), and the filter's shape.
    let filters = || {
        (0..graph.operator_count())
            .filter_map(|i| graph.operator(i))
            .filter_map(|op| {
                let shape = graph.tensor(op.inputs().get(1)?)?.shape();
                (shape.rank() == 4).then_some((op, shape))
            })
    };
    // Conv2DOptions' stride_w (field 1) and stride_h (field 2).
    let stride_1 = |op: &mote_runtime::model::Operator<'_>| {
        let o = op.options();
        (o.i32(1, 0), o.i32(2, 0)) == (1, 1)
    };
    use mote_runtime::model::BuiltinOperator as Op;
    Ok(Needs {
        int4: tensors().any(|t| t.dtype() == mote_runtime::TensorType::Int4),
        lut: tensors().any(|t| t.lut().is_some()),
        depthwise_3x3: filters()
            .any(|(op, f)| op.builtin() == Op::DEPTHWISE_CONV_2D && (f.dim(1), f.dim(2)) == (3, 3)),
        conv_1x1: filters().any(|(op, f)| {
            op.builtin() == Op::CONV_2D && (f.dim(1), f.dim(2)) == (1, 1) && stride_1(&op)
        }),
        conv_padded: filters().any(|(op, f)| match op.builtin() {
            Op::CONV_2D => !(f.dim(2) * f.dim(3)).is_multiple_of(4),
            Op::DEPTHWISE_CONV_2D => !f.dim(2).is_multiple_of(4),
            _ => false,
        }),
    })
}

/// Builds the firmware for `model_path`, its input filled as `fill`, and
/// returns the ELF's path.
pub(crate) fn build_firmware(model_path: &Path, fill: Fill, build: &Build<'_>) -> Result<PathBuf> {
    let dir = root().join("firmware");
    let checkout = std::fs::canonicalize(root()).context("the checkout's path")?;
    let mut cargo = Command::new("cargo");
    cargo
        .args(["build", "--quiet", "--profile", build.profile])
        .current_dir(&dir)
        // The firmware has its own target directory (and target).
        .env_remove("CARGO_TARGET_DIR")
        .env("MOTE_MODEL", model_path)
        .env("MOTE_INPUT", fill_setting(fill))
        .env("MOTE_ARENA", build.arena.to_string())
        // Panic locations name source files: without the checkout's path
        // they are the same bytes wherever the repository is (CI's clone
        // included), so flash figures and budgets do not depend on it.
        .env(
            "CARGO_TARGET_THUMBV7EM_NONE_EABIHF_RUSTFLAGS",
            format!("--remap-path-prefix={}/=", checkout.display()),
        );
    let mut features = Vec::new();
    if build.reference {
        features.push("reference-kernels");
    }
    let needs = needs(model_path)?;
    if needs.int4 {
        features.push("int4");
    }
    if needs.lut {
        features.push("lut");
    }
    if needs.depthwise_3x3 {
        features.push("depthwise-3x3");
    }
    if needs.conv_1x1 {
        features.push("conv-1x1");
    }
    if needs.conv_padded {
        features.push("conv-padded");
    }
    if !features.is_empty() {
        cargo.args(["--features", &features.join(",")]);
    }
    if let Some(memory) = build.memory {
        cargo.env("MOTE_MEMORY", memory);
    }
    if build.compiled {
        cargo.env("MOTE_CODEGEN", "1");
    }
    let status = cargo.status().context("cargo build in firmware/")?;
    if !status.success() {
        bail!("the firmware does not build for {}", model_path.display());
    }
    Ok(dir
        .join("target/thumbv7em-none-eabihf")
        .join(build.profile)
        .join("mote-firmware"))
}

/// Builds and runs the firmware for `model_path`, its input filled as `fill`.
fn run_firmware(model_path: &Path, fill: Fill, build: &Build<'_>) -> Result<Run> {
    let elf_path = build_firmware(model_path, fill, build)?;
    let sizes =
        elf::sizes(&std::fs::read(&elf_path).with_context(|| format!("{}", elf_path.display()))?)?;
    let Some(qemu::Finished { status, stdout }) =
        qemu::run(&elf_path, true, Duration::from_secs(900))?
    else {
        bail!(
            "the firmware for {} ran for over 15 minutes",
            model_path.display()
        );
    };
    if !status.success() {
        let why = match status.code() {
            Some(4) => "faulted (HardFault: a bad memory access or instruction)".to_string(),
            _ => format!("failed ({status})"),
        };
        bail!(
            "the firmware for {} {why}: {}",
            model_path.display(),
            stdout.trim()
        );
    }
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    let hex = field("output:").context("no output line")?;
    let output = hex
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<Vec<_>, _>>()
        .context("bad output line")?;
    Ok(Run {
        output,
        instructions: field("instructions:")
            .context("no instructions line")?
            .parse()?,
        arena_used: field("arena_used:").context("no arena line")?.parse()?,
        stack: field("stack:").context("no stack line")?.parse()?,
        sizes,
    })
}

/// MACs of a model, from `mote inspect --json`.
fn macs(path: &Path) -> Result<u64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let mote = target.join("release/mote");
    let out = Command::new(&mote)
        .args(["inspect", "--json"])
        .arg(path)
        .output()
        .with_context(|| format!("{}", mote.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text
        .rfind("\"macs\":")
        .context("no macs in inspect --json")?;
    let digits: String = text[at + 7..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Ok(digits.parse()?)
}

/// Runs every model; with `report`, prints (and with `write`, stores) the table.
pub fn check(report: bool, write: bool) -> Result<bool> {
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--release", "-p", "mote-cli"])
        .current_dir(root())
        .status()?;
    if !status.success() {
        bail!("cannot build mote-cli");
    }
    let mut all_equal = true;
    let mut table = String::from(
        "| model | MACs | instructions, reference kernels | instructions, DSP kernels | per MAC, reference | per MAC, DSP | arena bytes | flash bytes (text+rodata+data) | static RAM bytes (data+bss) | deepest stack bytes | generated code: instructions | flash bytes | static RAM bytes (arena) | deepest stack bytes | outputs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for entry in entries()? {
        let bytes =
            std::fs::read(&entry.path).with_context(|| format!("{}", entry.path.display()))?;
        let model = Model::parse(&bytes).with_context(|| format!("{}", entry.path.display()))?;
        let (fill, input) = make_input(&model, &entry.input)?;
        let expected =
            host_output(&model, &input).with_context(|| format!("{} on the host", entry.name))?;
        // For the report: the reference kernels with a big arena to learn the
        // need, then the DSP kernels with exactly that, so the RAM figure is
        // what a device needs.
        let (probe, run) = if report {
            let reference = Build {
                reference: true,
                ..Build::dsp(2 << 20)
            };
            let probe = run_firmware(&entry.path, fill, &reference)?;
            let run = run_firmware(&entry.path, fill, &Build::dsp(probe.arena_used))?;
            (probe, run)
        } else {
            let run = run_firmware(&entry.path, fill, &Build::dsp(2 << 20))?;
            (run.clone(), run)
        };
        let compiled = Some(run_firmware(
            &entry.path,
            fill,
            &Build {
                compiled: true,
                ..Build::dsp(0)
            },
        )?);
        let equal = run.output == expected
            && probe.output == expected
            && compiled.as_ref().is_none_or(|c| c.output == expected);
        all_equal &= equal;
        let verdict = if equal {
            "equal the host's"
        } else {
            "DIFFER from the host's"
        };
        let generated = |f: &dyn Fn(&Run) -> String| compiled.as_ref().map_or("-".into(), f);
        println!(
            "{:<24} {:>12} instructions  {:>8} arena bytes  {:>8} flash  {:>8} RAM  | generated: {:>12} instructions  {:>8} flash  {:>8} RAM  outputs {verdict}",
            entry.name,
            run.instructions,
            run.arena_used,
            run.sizes.flash(),
            run.sizes.ram(),
            generated(&|c| c.instructions.to_string()),
            generated(&|c| c.sizes.flash().to_string()),
            generated(&|c| c.sizes.ram().to_string()),
        );
        if report {
            let macs = macs(&entry.path)?;
            let per_mac = |instructions: u64| {
                if macs > 0 {
                    format!("{:.2}", instructions as f64 / macs as f64)
                } else {
                    "-".into()
                }
            };
            writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} |",
                entry.name,
                macs,
                probe.instructions,
                run.instructions,
                per_mac(probe.instructions),
                per_mac(run.instructions),
                run.arena_used,
                run.sizes.flash(),
                run.sizes.ram(),
                run.stack,
                generated(&|c| c.instructions.to_string()),
                generated(&|c| c.sizes.flash().to_string()),
                generated(&|c| c.sizes.ram().to_string()),
                generated(&|c| c.arena_used.to_string()),
                generated(&|c| c.stack.to_string()),
                verdict
            )?;
        }
    }
    if report {
        println!("\n{table}");
    }
    if write {
        write_report(&table)?;
    }
    Ok(all_equal)
}

/// Bytes from `32K`, `4K`, `1M` or a plain number.
fn parse_bytes(text: &str) -> Result<u64> {
    let (digits, unit) = match text.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1024),
        None => match text.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1024 * 1024),
            None => (text, 1),
        },
    };
    Ok(digits
        .parse::<u64>()
        .with_context(|| format!("bad size {text}"))?
        * unit)
}

/// Links the firmware of model `name` (smallest code, the DSP kernels,
/// exactly the arena it needs) for a chip of `flash` and `ram` bytes: the
/// linker fails if it does not fit. Then runs it to check its outputs (the
/// stack lives in those `ram` bytes too).
pub fn budget(name: &str, flash: &str, ram: &str) -> Result<bool> {
    let (flash, ram) = (parse_bytes(flash)?, parse_bytes(ram)?);
    let entry = entries()?
        .into_iter()
        .find(|e| e.name == name)
        .with_context(|| format!("{name} is not in firmware/models.txt"))?;
    let bytes = std::fs::read(&entry.path).with_context(|| format!("{}", entry.path.display()))?;
    let model = Model::parse(&bytes).with_context(|| format!("{}", entry.path.display()))?;
    let (fill, input) = make_input(&model, &entry.input)?;
    let expected = host_output(&model, &input)?;
    let scratch = std::env::temp_dir().join(format!("mote-budget-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let probe = run_firmware(&entry.path, fill, &Build::dsp(2 << 20))?;
    let memory = scratch.join("memory.x");
    std::fs::write(
        &memory,
        format!(
            "/* {name}'s budget */\nMEMORY\n{{\n  FLASH : ORIGIN = 0x00000000, LENGTH = {flash}\n  RAM   : ORIGIN = 0x20000000, LENGTH = {ram}\n}}\n"
        ),
    )?;
    let small = Build {
        profile: "small",
        memory: Some(&memory),
        ..Build::dsp(probe.arena_used)
    };
    let run = run_firmware(&entry.path, fill, &small);
    let _ = std::fs::remove_dir_all(&scratch);
    let run = run
        .with_context(|| format!("{name} does not fit {flash} bytes of flash and {ram} of RAM"))?;
    // RAM holds the static data and the stack: both must fit.
    let fits = run.sizes.flash() <= flash && run.sizes.ram() + run.stack as u64 <= ram;
    let equal = run.output == expected;
    println!(
        "{name}: {} flash bytes of {flash}, {} static RAM bytes + {} deepest stack bytes of {ram}, {} instructions (opt-level z), outputs {}",
        run.sizes.flash(),
        run.sizes.ram(),
        run.stack,
        run.instructions,
        if equal { "equal the host's" } else { "DIFFER from the host's" }
    );
    Ok(fits && equal)
}

const BEGIN: &str = "<!-- device-report:begin -->";
const END: &str = "<!-- device-report:end -->";

/// Replaces the table between the markers in BENCHMARKS.md.
fn write_report(table: &str) -> Result<()> {
    let path = root().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path)?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!("{} has no {BEGIN} ... {END} markers", path.display());
    };
    let updated = format!("{}{BEGIN}\n{table}{}", &text[..begin], &text[end..]);
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, updated)?;
    std::fs::rename(&tmp, &path)?;
    println!("wrote the table into {}", path.display());
    Ok(())
}
