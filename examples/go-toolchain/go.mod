module example.com/inventory

go 1.22.0

toolchain go1.22.5
