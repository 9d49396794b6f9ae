//! Groups whose source of authority moved to the cloud: the forecast of every target over a
//! bundle with converted, rolled-back, synced and cloud-native groups, their findings, the
//! in-place write against the Samba DC, collection from the simulator and the conversion plan.

mod bundle;
mod props;
mod ps;
mod samba;
mod sim;
mod tenant;
