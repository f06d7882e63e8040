"""The operations of the MOS API: access checks, users and cubes, memory writes, search."""
