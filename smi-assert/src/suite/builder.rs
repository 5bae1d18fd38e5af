//! Builders: [`SuiteBuilder`] and [`TestBuilder`].

use serde_json::Value;

use crate::error::Result;

use super::operation::Operation;
use super::{Step, Suite, Test, Timeouts};

impl Suite {
    /// A builder.
    pub fn builder(name: impl Into<String>) -> SuiteBuilder {
        SuiteBuilder {
            suite: Suite {
                name: name.into(),
                ..Suite::default()
            },
        }
    }
}

/// Builder for [`Suite`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SuiteBuilder {
    suite: Suite,
}

impl SuiteBuilder {
    /// Sets suite-level timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.suite.timeouts = timeouts;
        self
    }

    /// Adds a fixture.
    pub fn fixture(mut self, name: impl Into<String>, objects: Vec<Value>) -> Self {
        self.suite.fixtures.insert(name.into(), objects);
        self
    }

    /// Adds a test.
    pub fn test(mut self, test: Test) -> Self {
        self.suite.tests.push(test);
        self
    }

    /// Finishes and checks the suite.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSuite`](crate::Error::InvalidSuite) as [`Suite::check`].
    pub fn build(self) -> Result<Suite> {
        self.suite.check()?;
        Ok(self.suite)
    }
}

impl Test {
    /// A builder.
    pub fn builder(name: impl Into<String>) -> TestBuilder {
        TestBuilder {
            test: Test {
                name: name.into(),
                ..Test::default()
            },
        }
    }
}

/// Builder for [`Test`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TestBuilder {
    test: Test,
}

impl TestBuilder {
    /// Declares a feature.
    pub fn feature(mut self, id: impl Into<String>) -> Self {
        self.test.features.push(id.into());
        self
    }

    /// Marks the test provisional (Gateway API's `Provisional`).
    pub fn provisional(mut self) -> Self {
        self.test.provisional = true;
        self
    }

    /// Sets test-level timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.test.timeouts = timeouts;
        self
    }

    /// Adds a step.
    pub fn step(mut self, name: impl Into<String>, operations: Vec<Operation>) -> Self {
        self.test.steps.push(Step {
            name: name.into(),
            precondition: false,
            timeouts: Timeouts::default(),
            operations,
        });
        self
    }

    /// Adds a precondition step (its failure is an error, not a conformance failure).
    pub fn precondition(mut self, name: impl Into<String>, operations: Vec<Operation>) -> Self {
        self.test.steps.push(Step {
            name: name.into(),
            precondition: true,
            timeouts: Timeouts::default(),
            operations,
        });
        self
    }

    /// Adds an operation that always runs at the end.
    pub fn finally(mut self, op: Operation) -> Self {
        self.test.finally.push(op);
        self
    }

    /// Finishes the test (checked when added to a suite).
    #[must_use]
    pub fn build(self) -> Test {
        self.test
    }
}
