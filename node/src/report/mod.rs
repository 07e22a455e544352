//! The report to the Permanent Council (`tipx report`): on the coordinator's node, on the
//! federation, from the activity summaries and national profiles it received; on a
//! member's node, on that state's own exchange. [`model`] is the data every format and
//! chart is drawn from.

pub mod model;
