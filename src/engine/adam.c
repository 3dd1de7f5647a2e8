#include "adam.h"
