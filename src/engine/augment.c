#include "augment.h"
