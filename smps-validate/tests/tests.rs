//! Public behaviour of smps-validate.
