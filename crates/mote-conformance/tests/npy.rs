//! mote writes `.npy` files byte for byte as `numpy.save` does, and reads what
//! it writes.

use std::process::Command;

use mote_conformance::{python, TempDir};
use mote_runtime::TensorType;
use mote_train::npy::{self, Array};

#[test]
fn npy_files_are_byte_identical_to_numpy_save() {
    let dir = TempDir::new("npy");
    let cases = [
        Array::from_f32(vec![2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        Array::from_f32(vec![], &[0.5]),
        Array {
            shape: vec![3],
            dtype: TensorType::Int8,
            data: vec![1, 2, 255],
        },
        Array {
            shape: vec![1234567, 0],
            dtype: TensorType::Int16,
            data: vec![],
        },
        Array {
            shape: vec![2, 1],
            dtype: TensorType::UInt64,
            data: [7u64, 9].iter().flat_map(|v| v.to_le_bytes()).collect(),
        },
    ];
    for (i, array) in cases.iter().enumerate() {
        let ours = dir.path().join(format!("ours{i}.npy"));
        let theirs = dir.path().join(format!("theirs{i}.npy"));
        npy::write(&ours, array).unwrap();
        let status = Command::new(python())
            .args([
                "-c",
                "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1]))",
            ])
            .arg(&ours)
            .arg(&theirs)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            std::fs::read(&ours).unwrap(),
            std::fs::read(&theirs).unwrap(),
            "case {i}: {array:?}"
        );
        assert_eq!(&npy::read(&theirs).unwrap(), array);
    }
}
