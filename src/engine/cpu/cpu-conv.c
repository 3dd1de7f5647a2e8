#include "cpu-ops.h"
