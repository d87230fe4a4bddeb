package main_test

import "os"

var interrupt = os.Interrupt
