//! FULLY_CONNECTED cases: rows from 1 byte to several times the kernel's 640
//! (both stack buffers, their edges, the chunked long rows, depths it declines), 1 to 24 units, 1 to 4
//! batches, through `check::fully_connected_i8` against
//! `ops::fully_connected::fully_connected_i8`, the reference.

use mote_runtime::check::{self, FULLY_CONNECTED_ROW};
use mote_runtime::ops::fully_connected::{self, FullyConnectedKind, FullyConnectedParams};

use crate::compare::{Outputs, Verdict};
use crate::quant::{self, Quant};
use crate::rng::Rng;
use crate::tally::{Path, Taken};
use crate::tensors::{Tensors, MAX_FILTER, MAX_INPUT, MAX_MACS};

/// Rows up to this long take the kernel's small buffer.
const SMALL: usize = 64;

fn random_shape(rng: &mut Rng) -> (usize, usize, usize) {
    loop {
        let depth = match rng.next() % 10 {
            0..=3 => 4 * rng.usize(1, 16),
            4 | 5 => 4 * rng.usize(16, 160),
            6 => 4 * rng.usize(FULLY_CONNECTED_ROW / 4 - 3, FULLY_CONNECTED_ROW / 4 + 2),
            7 => rng.pick(&[4, 60, 64, 68, 72, FULLY_CONNECTED_ROW]),
            // Past one chunk: micro_speech's 4,000 among them.
            8 if rng.one_in(2) => {
                let long = 4 * rng.usize(161, 1200);
                rng.pick(&[long, 4000])
            }
            _ => rng.usize(1, 100),
        };
        let (batches, units) = (rng.usize(1, 4), rng.usize(1, 24));
        if batches * depth <= MAX_INPUT
            && units * depth <= MAX_FILTER
            && batches * units * depth <= MAX_MACS
        {
            return (batches, depth, units);
        }
    }
}

/// Runs one random case; on a difference with `report`, describes it.
pub fn case(
    rng: &mut Rng,
    t: &mut Tensors,
    outs: &mut Outputs,
    taken: &mut Taken,
    report: bool,
) -> bool {
    let (batches, depth, units) = random_shape(rng);
    let q = {
        let wild = rng.one_in(2);
        Quant::random(rng, units, wild)
    };
    t.fill(rng, batches * depth, units * depth);
    let bias = quant::bias(rng, &mut t.bias, units);
    let params = FullyConnectedParams {
        batches,
        depth,
        units,
        has_bias: bias > 0,
        kind: FullyConnectedKind::Float32 { range: (0.0, 0.0) },
    };
    let expect = depth.is_multiple_of(4)
        && (depth <= FULLY_CONNECTED_ROW || units.is_multiple_of(4))
        && quant::offset_fits(q.input_offset);
    if expect {
        taken.add(if depth <= SMALL {
            Path::FcSmall
        } else if depth <= FULLY_CONNECTED_ROW {
            Path::FcLarge
        } else {
            Path::FcLong
        });
        if units >= 4 {
            taken.add(Path::FcUnits4);
        }
        if !units.is_multiple_of(4) {
            taken.add(Path::FcUnitTail);
        }
        // `requant::Fixed::new`'s case.
        let (m, s) = q.scale(0);
        let fixed = q.count == 1 && m > 1 << 30 && (1..=31).contains(&s.wrapping_neg());
        taken.add(if fixed {
            Path::FcFixed
        } else {
            Path::FcGeneral
        });
    } else {
        taken.add(Path::FcDeclined);
    }
    let (x, f, b) = t.operands(batches * depth, units * depth, bias);
    let r = q.requant();
    let verdict = outs.compare(
        rng,
        batches * units,
        expect,
        |want| fully_connected::fully_connected_i8(&params, &r, x, f, b, want),
        |got| check::fully_connected_i8(&params, &r, x, f, b, got),
    );
    let ok = matches!(verdict, Verdict::Equal | Verdict::Declined);
    if !ok && report {
        crate::say(format_args!(
            "FULLY_CONNECTED: batches {batches} depth {depth} units {units}"
        ));
        crate::describe_verdict(&verdict, units);
        crate::describe_quant(&q, b, &verdict, units);
    }
    ok
}
