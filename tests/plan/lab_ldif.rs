//! Against the Samba lab DC (filled in below).
